/**
 * The customer chat client: one WebSocket to the platform, kept alive across API Gateway's limits
 * (10-minute idle close, 2-hour hard close, dropped networks), with no lost and no doubled message.
 *
 * - `send(text)` puts the message in a persisted outbox with a `client_msg_id` and resolves with the
 *   stored message when the server's `ack` arrives. The outbox is sent in order, one message at a
 *   time, and resent with the same ids after a reconnect or a reload; the server stores each once.
 * - After every (re)connect the client resyncs with `history after_seq=<the seq it is sure of>`,
 *   page by page; messages are deduplicated by `message_id` and kept in `seq` order.
 * - Reconnects use exponential backoff with jitter; a `ping` goes out before the idle limit and a
 *   planned reconnect happens before the 2-hour limit. `token` may be a function: it is called again
 *   before every connection attempt (tokens expire).
 */

import { Connection, CONNECTION_DEFAULTS, States } from "./connection.js";
import { ChatError, PERMANENT_CODES, validateText } from "./errors.js";
import { Outbox } from "./outbox.js";
import { defaultStorage } from "./storage.js";
import { Timeline } from "./timeline.js";

export { States };

const DEFAULTS = {
  ...CONNECTION_DEFAULTS, // ping, planned reconnect, stable-after (a resync also resets the backoff)
  channel: "web",
  storageKey: "cs-chat",
  historyLimit: 50,
  ackTimeoutMs: 20_000, // an unanswered frame this long means the socket is dead even if it looks open
  requestTimeoutMs: 20_000,
};

/** Reads the `sub` claim of a JWT without verifying it (only to keep each customer's outbox apart). */
export function tokenSubject(token) {
  try {
    const part = String(token).split(".")[1];
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "===".slice((base64.length + 3) % 4);
    const json = typeof atob === "function" ? atob(padded) : Buffer.from(padded, "base64").toString("binary");
    const claims = JSON.parse(decodeURIComponent(escape(json)));
    return typeof claims.sub === "string" ? claims.sub : null;
  } catch {
    return null;
  }
}

function uuid() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === "function") c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The survey question a message asks (`csat` 1-5 or `nps` 0-10), from its meta or its quick replies. */
export function surveyOf(message) {
  const meta = message.meta || {};
  const replies = Array.isArray(meta.quick_replies) ? meta.quick_replies : [];
  const payload = String((replies[0] && replies[0].payload) || "");
  const question = (meta.csat && meta.csat.question)
    || (payload.startsWith("csat:") ? "csat" : payload.startsWith("nps:") ? "nps" : null);
  if (question !== "csat" && question !== "nps") return null;
  const scale = (meta.csat && meta.csat.scale) || (question === "csat" ? [1, 5] : [0, 10]);
  return { question, min: scale[0], max: scale[1],
    conversation_id: (meta.csat && meta.csat.conversation_id) || message.conversation_id, message };
}

export class ChatClient {
  /**
   * @param {import("./index.js").ConnectOptions} options
   */
  constructor(options) {
    if (!options || !options.url) throw new TypeError("connect({url, token}): url is required");
    if (!options.token) throw new TypeError("connect({url, token}): token is required");
    this.options = { ...DEFAULTS, ...options };
    this.connection = new Connection({ ...this.options, params: { channel: this.options.channel } }, {
      onToken: (token) => this._identify(token),
      onOpen: () => this._onOpen(),
      onFrame: (text) => this._onFrame(text),
      onClose: (info) => this._onClose(info),
      onTick: (now) => this._onTick(now),
    }, (type, detail) => this._emit(type, detail));
    this.storage = options.storage || defaultStorage();
    this.timeline = new Timeline();
    this.customerId = null;
    this.conversationId = null;
    /** Highest seq of the current conversation known to be complete (everything at or below was received). */
    this.syncedSeq = 0;
    this.hasMoreOlder = false;
    this.queue = null;
    this.agent = null;
    this.survey = null;
    this.outbox = null;
    this._listeners = new Map();
    this._inflight = null;
    this._acks = new Map();
    this._historyQueue = [];
    this._historyInflight = null;
    this._pending = [];
    this._timers = {};
    this._closedAt = null;
    this._syncing = false;
  }

  /** The connection's state: `connecting`, `open`, `reconnecting` or `offline` (see `States`). */
  get state() {
    return this.connection.state;
  }

  get transport() {
    return this.connection.transport;
  }

  get backoff() {
    return this.connection.backoff;
  }

  /** Whether the client wants to be connected (between `connect()` and `close()`). */
  get _wanted() {
    return this.connection.wanted;
  }

  // -- events ----------------------------------------------------------------------------------

  /**
   * Subscribe to an event; returns the function that unsubscribes.
   * @param {string} type
   * @param {(detail: any) => void} listener
   */
  on(type, listener) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(listener);
    return () => this.off(type, listener);
  }

  off(type, listener) {
    const set = this._listeners.get(type);
    if (set) set.delete(listener);
  }

  once(type, listener) {
    const off = this.on(type, (detail) => {
      off();
      listener(detail);
    });
    return off;
  }

  _emit(type, detail) {
    for (const listener of [...(this._listeners.get(type) || [])]) {
      try {
        listener(detail);
      } catch (error) {
        if (type !== "error") this._emit("error", error);
      }
    }
  }

  // -- public API ------------------------------------------------------------------------------

  /** Messages seen so far (deduplicated, in order). */
  get messages() {
    return this.timeline.messages.slice();
  }

  /** Messages written but not acknowledged yet, oldest first. */
  get pending() {
    return this.outbox ? this.outbox.list() : [];
  }

  /** Open the connection (called by `connect()`); resolves once the first socket is open. */
  async connect() {
    const opened = new Promise((resolve) => {
      if (this.state === States.OPEN) resolve();
      else this.once("open", resolve);
    });
    this.connection.start();
    return opened;
  }

  /** Close for good (no reconnect). The outbox stays persisted and is sent on the next connect. */
  close() {
    this.connection.stop(1000, "client closed");
    clearTimeout(this._timers.ackTimer);
    this._timers.ackTimer = null;
    this._inflight = null;
    this._failRequests(new ChatError("closed", "the client was closed"));
    this.connection.setState(States.OFFLINE);
  }

  /**
   * Send a text message. Resolves with the stored message (`message_id`, `seq`) once acknowledged;
   * rejects with a ChatError (`empty_field`, `text_too_long`, ...) if the server would or did refuse it.
   * Offline, it waits in the outbox (persisted) and goes out after the next connect.
   * @param {string} text
   */
  async send(text) {
    validateText(text);
    await this._ready();
    const entry = { client_msg_id: uuid(), text, created_at: Date.now() };
    const acked = new Promise((resolve, reject) => this._acks.set(entry.client_msg_id, { resolve, reject }));
    this.outbox.add(entry);
    this._emit("delivery", { client_msg_id: entry.client_msg_id, state: "pending", text });
    this._pump();
    return acked;
  }

  /** Answer a quick reply (a bot suggestion or a survey button): sends its payload as the text. */
  choose(quickReply) {
    const payload = typeof quickReply === "string" ? quickReply : quickReply && (quickReply.payload || quickReply.title);
    return this.send(String(payload || ""));
  }

  /**
   * Ask for a human agent. Resolves with the `escalation` frame; `queue` events follow.
   * @param {{reason?: string, language?: string}} [options]
   */
  requestHuman({ reason, language } = {}) {
    const frame = { action: "requestHuman", client_msg_id: uuid() };
    if (reason) frame.reason = reason;
    if (language) frame.language = language;
    return this._request(frame, "escalation");
  }

  /**
   * Rate the conversation: 1-5 stars, an optional comment, an optional 0-10 NPS answer.
   * @param {number} score
   * @param {string} [comment]
   * @param {{nps?: number, conversationId?: string}} [options]
   */
  rate(score, comment, { nps, conversationId } = {}) {
    if (!Number.isInteger(score) || score < 1 || score > 5) {
      return Promise.reject(new ChatError("invalid_frame", "score must be an integer from 1 to 5", { details: ["score"] }));
    }
    if (nps !== undefined && (!Number.isInteger(nps) || nps < 0 || nps > 10)) {
      return Promise.reject(new ChatError("invalid_frame", "nps must be an integer from 0 to 10", { details: ["nps"] }));
    }
    const frame = { action: "rate", score };
    if (comment) frame.comment = comment;
    if (nps !== undefined) frame.nps = nps;
    const target = conversationId || (this.survey && this.survey.conversation_id) || undefined;
    if (target) frame.conversation_id = target;
    return this._request(frame, "rated").then((rated) => {
      this.survey = null;
      return rated;
    });
  }

  /**
   * Load the page of messages before the oldest one seen. Resolves with the new messages, oldest first
   * (empty when there is nothing older); `hasMoreOlder` tells whether to offer another page.
   */
  async loadOlder(limit = this.options.historyLimit) {
    await this._ready();
    const oldest = this.conversationId ? this.timeline.minSeq(this.conversationId) : null;
    if (oldest === null || oldest <= 1) {
      this.hasMoreOlder = false;
      return [];
    }
    const frame = await this._history({ action: "history", before_seq: oldest, limit,
      conversation_id: this.conversationId });
    this.hasMoreOlder = Boolean(frame.has_more);
    return this._addAll(frame.messages);
  }

  // -- connection (the shared machinery: connection.js) ------------------------------------------

  async _ready() {
    if (this.outbox) return;
    await new Promise((resolve) => this.once("identity", resolve));
  }

  _identify(token) {
    const subject = tokenSubject(token) || "anonymous";
    if (this.customerId === subject && this.outbox) return;
    this.customerId = subject;
    this.outbox = new Outbox(this.storage, `${this.options.storageKey}:${subject}:outbox`);
    this._emit("identity", { customerId: subject });
    if (this.outbox.size) this._emit("outbox", { size: this.outbox.size, entries: this.outbox.list() });
  }

  _onOpen() {
    this._resync();
    for (const pending of this._pending) if (!pending.sent) this._sendPending(pending);
    this._pump();
  }

  _onClose() {
    const closedAt = Date.now();
    clearTimeout(this._timers.ackTimer);
    this._timers.ackTimer = null;
    this._inflight = null; // the outbox still has it: resent after the reconnect
    this._historyInflight = null;
    this._syncing = false;
    for (const pending of this._pending) pending.sent = false;
    if (this.connection.wanted && this._closedAt === null) this._closedAt = closedAt;
  }

  /** Drop the current socket and reconnect now (also what the SDK does when a frame goes unanswered). */
  reconnect() {
    if (!this.connection.wanted) return this.connect();
    this.connection.reconnect();
    return undefined;
  }

  /** The keep-alive tick: a frame unanswered too long means the socket is dead even if it looks open. */
  _onTick(now) {
    if (this._inflight && now - this._inflight.sentAt > this.options.ackTimeoutMs) {
      this.reconnect(); // the socket looks open but answers nothing (a half-open TCP connection)
      return true;
    }
    return false;
  }

  _sendFrame(frame) {
    return this.connection.send(frame);
  }

  // -- outbox ----------------------------------------------------------------------------------

  _pump() {
    if (this._inflight || this.state !== States.OPEN || !this.outbox) return;
    const entry = this.outbox.first();
    if (!entry) return;
    this._inflight = { client_msg_id: entry.client_msg_id, sentAt: Date.now() };
    if (!this._sendFrame({ action: "sendMessage", client_msg_id: entry.client_msg_id, text: entry.text })) {
      this._inflight = null;
      return;
    }
    clearTimeout(this._timers.ackTimer);
    const expected = this._inflight;
    this._timers.ackTimer = setTimeout(() => {
      if (this._inflight === expected) this.reconnect();
    }, this.options.ackTimeoutMs);
  }

  _onAck(frame) {
    const entry = this.outbox && this.outbox.get(frame.client_msg_id);
    const message = {
      message_id: frame.message_id, conversation_id: frame.conversation_id, seq: frame.seq, ts: frame.ts,
      sender: { type: "customer", id: this.customerId }, channel: this.options.channel, kind: "text",
      text: entry ? entry.text : undefined, client_msg_id: frame.client_msg_id,
    };
    this._acknowledged(frame.client_msg_id, message, Boolean(frame.duplicate));
  }

  _acknowledged(clientMsgId, message, duplicate) {
    const known = this.outbox && this.outbox.remove(clientMsgId);
    if (this._inflight && this._inflight.client_msg_id === clientMsgId) {
      this._inflight = null;
      clearTimeout(this._timers.ackTimer);
    }
    this._setConversation(message.conversation_id);
    const stored = this.timeline.byId.get(message.message_id) || message;
    if (!this.timeline.has(message.message_id)) this._addAll([message]);
    const waiter = this._acks.get(clientMsgId);
    if (waiter) {
      this._acks.delete(clientMsgId);
      waiter.resolve(stored);
    }
    if (known || waiter) this._emit("delivery", { client_msg_id: clientMsgId, state: "sent", message: stored, duplicate });
    this._pump();
  }

  _refused(frame) {
    const clientMsgId = frame.client_msg_id;
    const error = ChatError.fromFrame(frame);
    if (frame.code === "not_connected") {
      this.reconnect();
      return true;
    }
    if (this.outbox && this.outbox.has(clientMsgId)) {
      if (!PERMANENT_CODES.has(frame.code)) {
        // transient (a server-side failure): retry after a reconnect, with backoff
        if (this._inflight && this._inflight.client_msg_id === clientMsgId) this._inflight = null;
        return false;
      }
      this.outbox.remove(clientMsgId);
      if (this._inflight && this._inflight.client_msg_id === clientMsgId) this._inflight = null;
      clearTimeout(this._timers.ackTimer);
      const waiter = this._acks.get(clientMsgId);
      if (waiter) {
        this._acks.delete(clientMsgId);
        waiter.reject(error);
      }
      this._emit("delivery", { client_msg_id: clientMsgId, state: "failed", error });
      this._pump();
      return true;
    }
    const pending = this._pending.find((p) => p.frame.client_msg_id && p.frame.client_msg_id === clientMsgId);
    if (pending) {
      this._settle(pending, null, error);
      return true;
    }
    return false;
  }

  // -- requests with an answer frame (requestHuman, rate, history) -----------------------------

  _request(frame, answerType) {
    return this._ready().then(() => new Promise((resolve, reject) => {
      const pending = { frame, answerType, resolve, reject, sent: false };
      pending.timer = setTimeout(() => this._settle(pending, null,
        new ChatError("timeout", `no ${answerType} answer within ${this.options.requestTimeoutMs} ms`)),
      this.options.requestTimeoutMs + (this.state === States.OPEN ? 0 : 60_000));
      this._pending.push(pending);
      if (this.state === States.OPEN) this._sendPending(pending);
    }));
  }

  _sendPending(pending) {
    pending.sent = this._sendFrame(pending.frame);
  }

  _settle(pending, value, error) {
    const i = this._pending.indexOf(pending);
    if (i < 0) return;
    this._pending.splice(i, 1);
    clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  _answer(type, frame) {
    const pending = this._pending.find((p) => p.answerType === type && p.sent);
    if (pending) this._settle(pending, frame);
  }

  _failRequests(error) {
    for (const pending of [...this._pending]) this._settle(pending, null, error);
    for (const [id, waiter] of this._acks) {
      this._acks.delete(id);
      waiter.reject(error);
    }
    for (const item of this._historyQueue.splice(0)) item.reject(error);
  }

  _history(frame) {
    return new Promise((resolve, reject) => {
      this._historyQueue.push({ frame, resolve, reject });
      this._nextHistory();
    });
  }

  _nextHistory() {
    if (this._historyInflight || this.state !== States.OPEN) return;
    const next = this._historyQueue.shift();
    if (!next) return;
    this._historyInflight = next;
    if (!this._sendFrame(next.frame)) {
      this._historyInflight = null;
      this._historyQueue.unshift(next);
    }
  }

  _onHistory(frame) {
    const current = this._historyInflight;
    this._historyInflight = null;
    if (current) current.resolve(frame);
    this._nextHistory();
  }

  /** After each connect: everything after the seq we are sure of, page by page, then `synced`. */
  async _resync() {
    if (this._syncing) return;
    this._syncing = true;
    const socketId = this.connection.id;
    const started = Date.now();
    const first = !this._initialSynced;
    try {
      if (first) {
        const frame = await this._history({ action: "history", limit: this.options.historyLimit });
        this._setConversation(frame.conversation_id);
        this.hasMoreOlder = Boolean(frame.has_more);
        this._addAll(frame.messages);
        this.syncedSeq = frame.messages.reduce((m, msg) => Math.max(m, msg.seq), 0);
      } else {
        for (let pages = 0; pages < 1000; pages++) {
          const frame = await this._history({ action: "history", after_seq: this.syncedSeq, limit: 100 });
          if (frame.conversation_id && this.conversationId && frame.conversation_id !== this.conversationId) {
            // a new conversation started meanwhile (the last one was closed): take it from its start
            this._setConversation(frame.conversation_id);
            continue;
          }
          this._setConversation(frame.conversation_id);
          this._addAll(frame.messages);
          const max = frame.messages.reduce((m, msg) => Math.max(m, msg.seq), this.syncedSeq);
          if (!frame.has_more || max <= this.syncedSeq) {
            this.syncedSeq = max;
            break;
          }
          this.syncedSeq = max;
        }
      }
      if (socketId !== this.connection.id) return;
      this._initialSynced = true;
      this.backoff.reset(); // a full round trip worked: the next drop starts again from the shortest delay
      const closedAt = this._closedAt;
      this._closedAt = null;
      this._emit("synced", { initial: first, durationMs: Date.now() - started,
        sinceCloseMs: closedAt === null ? null : Date.now() - closedAt, messages: this.timeline.size });
    } catch (error) {
      if (!(error instanceof ChatError && error.code === "closed")) this._emit("error", error);
    } finally {
      if (socketId === this.connection.id) this._syncing = false;
    }
  }

  _setConversation(conversationId) {
    if (!conversationId || conversationId === this.conversationId) return;
    const previous = this.conversationId;
    this.conversationId = conversationId;
    if (previous !== null) {
      this.syncedSeq = 0; // a new conversation: resync it from its start
      this.survey = null;
      this.queue = null;
      this.agent = null;
    }
    this._emit("conversation", { conversationId, previous });
  }

  // -- frames from the server ------------------------------------------------------------------

  _onFrame(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    switch (frame.type) {
      case "ack":
        this._onAck(frame);
        break;
      case "message":
        this._addAll([frame.message]);
        break;
      case "history":
        this._onHistory(frame);
        break;
      case "queue":
        this.queue = { position: frame.position, estimated_wait_seconds: frame.estimated_wait_seconds,
          conversation_id: frame.conversation_id };
        this._emit("queue", this.queue);
        break;
      case "escalation":
        this._setConversation(frame.conversation_id);
        this._emit("escalation", frame);
        this._answer("escalation", frame);
        break;
      case "rated":
        this._emit("rated", frame);
        this._answer("rated", frame);
        break;
      case "delivery":
        this._emit("delivery", { ...frame, state: frame.state || frame.delivery });
        break;
      case "pong":
        this._emit("pong", {});
        break;
      case "error":
        if (!this._refused(frame)) {
          const pending = this._pending.find((p) => p.sent && !p.frame.client_msg_id);
          if (pending && !frame.client_msg_id) this._settle(pending, null, ChatError.fromFrame(frame));
          else this._emit("error", ChatError.fromFrame(frame));
        }
        break;
      default:
        if (frame.message && !frame.type) {
          // API Gateway's own answer ("Internal server error", "Forbidden"): a frame failed on the server
          this._emit("error", new ChatError("server_error", String(frame.message)));
          if (this._inflight) {
            this._inflight = null;
            this.reconnect();
          }
        }
    }
  }

  /** Adds messages to the timeline (deduplicated), emitting the events each implies; returns the new ones. */
  _addAll(messages) {
    const added = [];
    for (const message of [...(messages || [])].sort((a, b) => a.seq - b.seq)) {
      if (!message || !message.message_id) continue;
      if (message.sender && message.sender.type === "customer" && message.client_msg_id
          && this.outbox && this.outbox.has(message.client_msg_id) && message.sender.id === this.customerId) {
        // stored, but its ack was lost with the socket: no need to resend
        this._acknowledged(message.client_msg_id, message, true);
        if (this.timeline.has(message.message_id)) continue;
      }
      const index = this.timeline.add(message);
      if (index < 0) continue;
      if (!this.conversationId) this._setConversation(message.conversation_id);
      added.push(message);
      this._emit("message", { message, index });
      this._derive(message);
    }
    return added;
  }

  _derive(message) {
    const sender = message.sender || {};
    const meta = message.meta || {};
    const survey = surveyOf(message);
    if (survey) {
      this.survey = survey;
      if (this.agent) {
        const agent = this.agent;
        this.agent = null;
        this._emit("agent", { state: "left", agent });
      }
      this._emit("survey", this.survey);
    } else if (Array.isArray(meta.quick_replies) && meta.quick_replies.length) {
      this._emit("quickReplies", { message, quickReplies: meta.quick_replies });
    }
    if (meta.queue && typeof meta.queue.position === "number") {
      this.queue = { ...meta.queue, conversation_id: message.conversation_id };
      this._emit("queue", this.queue);
    }
    if (meta.routing === "assigned" && meta.agent) {
      this.agent = { name: meta.agent.name };
      this.queue = null;
      this._emit("agent", { state: "joined", agent: this.agent });
    } else if (sender.type === "agent" && (!this.agent || this.agent.name !== (sender.name || sender.id))) {
      this.agent = { name: sender.name || sender.id };
      this.queue = null;
      this._emit("agent", { state: "joined", agent: this.agent });
    }
  }
}
