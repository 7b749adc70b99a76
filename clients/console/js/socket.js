// The agent's WebSocket, on the customer SDK's connection machinery (clients/js/src/connection.js,
// served from this origin under sdk/): a fresh token per connect (`?as=agent`), backoff with jitter, a
// ping after 5 idle minutes, a planned reconnect before API Gateway's 2-hour limit, and an outbox.
//
// Replies and private notes go into the outbox (persisted in session storage per agent) with a
// `client_msg_id`, and are sent in order, one at a time, again with the same id after every reconnect
// until the server's `ack` arrives (it stores each once: it deduplicates by client_msg_id). A refusal
// (an `error` frame naming the id: not assigned, too long ...) takes it out as failed; `unavailable`
// (an outage) sends it again later. A sent reply unanswered for `ackTimeoutMs` means a dead socket:
// reconnect. After every (re)connect, "open" fires first (the workspace resyncs), then the outbox goes.
//
// Interface: new AgentSocket({url, token, agentId}), .connect(), .send(frame) -> boolean (frames without
// an answer to wait for), .reply({conversation_id, text, note}) -> the outbox entry, .pending(cid),
// .settle(message) (a stored message seen in a resync: its ack was lost), .close(); events "frame"
// (detail: a frame that is not an outbox ack), "state" (detail: connecting | open | reconnecting |
// offline), "open" (after every (re)connect; detail: {reconnect}) and "delivery" (detail: {entry, state:
// pending | sent | failed, message?, error?}).
import { backoffDelay } from "../sdk/backoff.js";
import { Connection } from "../sdk/connection.js";
import { Outbox } from "../sdk/outbox.js";
import { browserStorage, memoryStorage } from "../sdk/storage.js";
import { uuid } from "./dom.js";

const RETRYABLE = new Set(["unavailable", "throttled", "internal_error"]);

export class AgentSocket extends EventTarget {
  /**
   * @param {{url: string, token: () => Promise<string> | string, agentId?: string, storage?: object,
   *   transport?: object, backoff?: object, ackTimeoutMs?: number, pingIntervalMs?: number,
   *   maxConnectionMs?: number}} options
   */
  constructor({ url, token, agentId = "agent", storage, transport, backoff, ackTimeoutMs = 20_000, ...timing }) {
    super();
    this.ackTimeoutMs = ackTimeoutMs;
    const store = storage || (typeof sessionStorage !== "undefined" ? browserStorage(sessionStorage) : memoryStorage());
    this.outbox = new Outbox(store, `console:${agentId}:outbox`);
    this.opens = 0;
    this._inflight = null;
    this._ackTimer = null;
    this._retryTimer = null;
    this._failures = 0;
    this.connection = new Connection({ url, token, params: { as: "agent" }, transport, backoff, ...timing }, {
      onOpen: () => this._pump(),
      onFrame: (text) => this._onFrame(text),
      onClose: () => this._lost(),
      onTick: (now) => this._onTick(now),
    }, (type, detail) => this._emit(type, detail));
  }

  get state() {
    return this.connection.state;
  }

  _emit(type, detail) {
    if (type === "state") this.dispatchEvent(new CustomEvent("state", { detail: detail.state }));
    else if (type === "open") {
      this.opens += 1;
      this.dispatchEvent(new CustomEvent("open", { detail: { reconnect: this.opens > 1 } }));
    }
  }

  connect() {
    this.connection.start();
  }

  /** A frame with no answer to wait for (`work`, `setStatus`, `assist`); false when the socket is not open. */
  send(frame) {
    return this.connection.send(frame);
  }

  /** Queue a reply (or, with `note`, a private note) for a conversation; returns its outbox entry. */
  reply({ conversation_id, text, note = false }) {
    const entry = { client_msg_id: uuid(), text, created_at: Date.now(), conversation_id,
      action: note ? "note" : "reply" };
    this.outbox.add(entry);
    this._delivery(entry, "pending");
    this._pump();
    return entry;
  }

  /** Entries not acknowledged yet, oldest first (of one conversation when given). */
  pending(conversationId) {
    return this.outbox.list().filter((e) => !conversationId || e.conversation_id === conversationId);
  }

  /** A stored message seen in a resync whose ack was lost with a socket: it is delivered. */
  settle(message) {
    if (!message || !message.client_msg_id || !this.outbox.has(message.client_msg_id)) return;
    this._acknowledged(message.client_msg_id, message);
  }

  close() {
    this.connection.stop(1000, "signed out");
    this._lost();
    clearTimeout(this._retryTimer);
    this.connection.setState("offline");
  }

  _delivery(entry, state, extra = {}) {
    this.dispatchEvent(new CustomEvent("delivery", { detail: { entry, state, ...extra } }));
  }

  _lost() {
    clearTimeout(this._ackTimer);
    this._ackTimer = null;
    this._inflight = null; // the outbox still has it: sent again after the reconnect
  }

  _onTick(now) {
    if (this._inflight && now - this._inflight.sentAt > this.ackTimeoutMs) {
      this.connection.reconnect(); // the socket looks open but answers nothing (a half-open TCP connection)
      return true;
    }
    return false;
  }

  _pump() {
    if (this._inflight || this._retryTimer || !this.connection.isOpen) return;
    const entry = this.outbox.first();
    if (!entry) return;
    const frame = { action: entry.action, conversation_id: entry.conversation_id, client_msg_id: entry.client_msg_id,
      text: entry.text };
    this._inflight = { client_msg_id: entry.client_msg_id, sentAt: Date.now() };
    if (!this.connection.send(frame)) {
      this._inflight = null;
      return;
    }
    const expected = this._inflight;
    clearTimeout(this._ackTimer);
    this._ackTimer = setTimeout(() => {
      if (this._inflight === expected) this.connection.reconnect();
    }, this.ackTimeoutMs);
  }

  _acknowledged(clientMsgId, message) {
    const entry = this.outbox.get(clientMsgId);
    this.outbox.remove(clientMsgId);
    if (this._inflight && this._inflight.client_msg_id === clientMsgId) this._lost();
    this._failures = 0;
    if (entry) this._delivery(entry, "sent", { message });
    this._pump();
  }

  _onFrame(text) {
    let frame;
    try { frame = JSON.parse(text); } catch { return; }
    if (!frame || typeof frame !== "object") return;
    const id = frame.client_msg_id;
    if (frame.type === "error" && frame.code === "not_connected") {
      this.connection.reconnect(); // the server forgot this socket (as the SDK does: a new one)
      return;
    }
    if (frame.type === "ack" && id && this.outbox.has(id)) {
      const entry = this.outbox.get(id);
      this._acknowledged(id, {
        message_id: frame.message_id, conversation_id: frame.conversation_id, seq: frame.seq, ts: frame.ts,
        sender: { type: "agent" }, kind: "text", text: entry.text, client_msg_id: id,
        visibility: frame.visibility || (entry.action === "note" ? "internal" : "public"),
      });
      return;
    }
    if (frame.type === "error" && id && this.outbox.has(id)) {
      this._refused(frame);
      return;
    }
    this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
  }

  _refused(frame) {
    const id = frame.client_msg_id;
    if (this._inflight && this._inflight.client_msg_id === id) this._lost();
    if (frame.retryable || RETRYABLE.has(frame.code)) {
      // an outage: the same frame again after a while (the server stores it once whatever happens)
      const delay = backoffDelay(this._failures++);
      this._retryTimer = setTimeout(() => { this._retryTimer = null; this._pump(); }, delay);
      return;
    }
    const entry = this.outbox.get(id);
    this.outbox.remove(id);
    this._delivery(entry, "failed", { error: { code: frame.code, message: frame.message } });
    this._pump();
  }
}
