// The agent console's socket (clients/console/js/socket.js): the SDK's Connection with `as=agent` and
// an outbox for replies and notes — against an in-memory stand-in of the agent frames and their acks.
import assert from "node:assert/strict";
import { after, test } from "node:test";

import { AgentSocket } from "../../console/js/socket.js";
import { memoryStorage } from "../src/index.js";

class AgentServer {
  constructor() {
    this.stored = new Map(); // client_msg_id -> message (the server deduplicates by it)
    this.sockets = [];
    this.received = [];
    this.urls = [];
    this.dropAfterStore = 0;
    this.refuse = new Map(); // text -> error frame fields
    this.outages = 0;
    this.down = false; // the network is gone: sockets fail to open
  }

  transport() {
    return {
      name: "fake",
      open: (url, handlers) => {
        this.urls.push(url);
        const socket = { handlers, open: !this.down };
        this.sockets.push(socket);
        if (this.down) setImmediate(() => handlers.onClose({ code: 1006, reason: "unreachable" }));
        else setImmediate(() => socket.open && handlers.onOpen());
        return {
          send: (text) => setImmediate(() => socket.open && this.onFrame(socket, JSON.parse(text))),
          close: () => this.close(socket),
        };
      },
    };
  }

  close(socket) {
    if (!socket.open) return;
    socket.open = false;
    setImmediate(() => socket.handlers.onClose({ code: 1006, reason: "" }));
  }

  cut() {
    for (const s of this.sockets) this.close(s);
  }

  push(socket, frame) {
    if (socket.open) socket.handlers.onMessage(JSON.stringify(frame));
  }

  onFrame(socket, frame) {
    this.received.push(frame);
    if (frame.action !== "reply" && frame.action !== "note") return;
    const id = frame.client_msg_id;
    if (this.refuse.has(frame.text)) {
      this.push(socket, { type: "error", client_msg_id: id, ...this.refuse.get(frame.text) });
      return;
    }
    if (this.outages > 0) {
      this.outages--;
      this.push(socket, { type: "error", code: "unavailable", message: "later", client_msg_id: id, retryable: true });
      return;
    }
    const duplicate = this.stored.has(id);
    if (!duplicate) {
      const seq = this.stored.size + 1;
      this.stored.set(id, { message_id: `msg_${seq}`, seq, conversation_id: frame.conversation_id, text: frame.text,
        ts: new Date(1e12 + seq).toISOString(), client_msg_id: id,
        visibility: frame.action === "note" ? "internal" : "public" });
    }
    if (this.dropAfterStore > 0) {
      this.dropAfterStore--;
      this.close(socket); // stored, but the ack is lost with the socket
      return;
    }
    const m = this.stored.get(id);
    this.push(socket, { type: "ack", client_msg_id: id, message_id: m.message_id, seq: m.seq, ts: m.ts,
      conversation_id: m.conversation_id, ...(duplicate ? { duplicate } : {}),
      ...(frame.action === "note" ? { visibility: "internal" } : {}) });
  }
}

const waitUntil = async (predicate, what, ms = 3000) => {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

const made = [];
after(() => made.forEach((socket) => socket.close())); // a failed test leaves no timer running

function newSocket(server, storage = memoryStorage(), options = {}) {
  const socket = new AgentSocket({ url: "ws://test", token: async () => "agent-jwt", agentId: "amy", storage,
    transport: server.transport(), backoff: { baseMs: 2, maxMs: 8 }, ...options });
  made.push(socket);
  const deliveries = [];
  socket.addEventListener("delivery", (e) => deliveries.push(e.detail));
  return { socket, deliveries };
}

async function openSocket(server, storage, options) {
  const made = newSocket(server, storage, options);
  made.socket.connect();
  await waitUntil(() => made.socket.state === "open", "open");
  return made;
}

test("connects as an agent, with the token in the URL", async () => {
  const server = new AgentServer();
  const { socket } = await openSocket(server);
  assert.deepEqual(server.urls, ["ws://test?token=agent-jwt&as=agent"]);
  socket.close();
  assert.equal(socket.state, "offline");
});

test("a reply is sent as a reply frame and leaves the outbox on its ack", async () => {
  const server = new AgentServer();
  const storage = memoryStorage();
  const { socket, deliveries } = await openSocket(server, storage);
  const entry = socket.reply({ conversation_id: "c1", text: "Hello" });
  const note = socket.reply({ conversation_id: "c1", text: "Check refunds", note: true });
  await waitUntil(() => socket.pending().length === 0, "both acked");
  assert.deepEqual(server.received.map((f) => [f.action, f.conversation_id, f.client_msg_id, f.text]),
    [["reply", "c1", entry.client_msg_id, "Hello"], ["note", "c1", note.client_msg_id, "Check refunds"]]);
  const sent = deliveries.filter((d) => d.state === "sent");
  assert.deepEqual(sent.map((d) => [d.message.message_id, d.message.seq, d.message.visibility]),
    [["msg_1", 1, "public"], ["msg_2", 2, "internal"]]);
  assert.equal(storage.getItem("console:amy:outbox"), null);
  socket.close();
});

test("replies written while the socket is down go out after the reconnect, in order, each stored once", async () => {
  const server = new AgentServer();
  const { socket } = newSocket(server);
  const opens = [];
  socket.addEventListener("open", (e) => opens.push(e.detail.reconnect));
  socket.connect();
  await waitUntil(() => socket.state === "open", "open");
  server.down = true;
  server.cut();
  await waitUntil(() => server.sockets.length >= 3, "failed reconnects");
  assert.notEqual(socket.state, "open");
  for (const text of ["one", "two", "three"]) socket.reply({ conversation_id: "c1", text });
  assert.equal(socket.pending("c1").length, 3);
  assert.equal(server.received.length, 0);
  server.down = false;
  await waitUntil(() => socket.pending().length === 0, "the outbox to empty");
  assert.deepEqual([...server.stored.values()].map((m) => m.text), ["one", "two", "three"]);
  assert.deepEqual(opens, [false, true]);
  socket.close();
});

test("an ack lost with the socket: the reply is sent again with the same id and stored once", async () => {
  const server = new AgentServer();
  server.dropAfterStore = 1;
  const { socket, deliveries } = await openSocket(server);
  const entry = socket.reply({ conversation_id: "c1", text: "Once" });
  await waitUntil(() => socket.pending().length === 0, "acked after the reconnect");
  const sends = server.received.filter((f) => f.action === "reply");
  assert.equal(sends.length, 2);
  assert.ok(sends.every((f) => f.client_msg_id === entry.client_msg_id));
  assert.equal(server.stored.size, 1);
  assert.equal(deliveries.filter((d) => d.state === "sent").length, 1);
  socket.close();
});

test("a reply seen stored in a resync is settled without being sent again", async () => {
  const server = new AgentServer();
  const { socket, deliveries } = newSocket(server);
  const entry = socket.reply({ conversation_id: "c1", text: "Seen" });
  socket.settle({ message_id: "msg_9", conversation_id: "c1", seq: 9, client_msg_id: entry.client_msg_id });
  assert.equal(socket.pending().length, 0);
  assert.equal(deliveries.at(-1).state, "sent");
  socket.connect();
  await waitUntil(() => socket.state === "open", "open");
  assert.equal(server.received.length, 0);
  socket.close();
});

test("a refused reply leaves the outbox as failed; the next one still goes", async () => {
  const server = new AgentServer();
  server.refuse.set("bad", { code: "not_assigned", message: "not your conversation" });
  const { socket, deliveries } = await openSocket(server);
  socket.reply({ conversation_id: "c1", text: "bad" });
  socket.reply({ conversation_id: "c1", text: "good" });
  await waitUntil(() => socket.pending().length === 0, "the outbox to empty");
  const failed = deliveries.find((d) => d.state === "failed");
  assert.equal(failed.entry.text, "bad");
  assert.equal(failed.error.code, "not_assigned");
  assert.deepEqual([...server.stored.values()].map((m) => m.text), ["good"]);
  socket.close();
});

test("an outage (retryable error) sends the same reply again later", async () => {
  const server = new AgentServer();
  server.outages = 2;
  const { socket } = await openSocket(server);
  const entry = socket.reply({ conversation_id: "c1", text: "Patience" });
  await waitUntil(() => socket.pending().length === 0, "acked after the outage");
  const sends = server.received.filter((f) => f.action === "reply");
  assert.equal(sends.length, 3);
  assert.ok(sends.every((f) => f.client_msg_id === entry.client_msg_id));
  assert.equal(server.stored.size, 1);
  socket.close();
});

test("the outbox survives a reload (session storage) and is sent by the next socket", async () => {
  const server = new AgentServer();
  const storage = memoryStorage();
  const first = newSocket(server, storage).socket;
  first.reply({ conversation_id: "c1", text: "Before the reload" });
  first.close();
  const { socket } = newSocket(server, storage);
  assert.equal(socket.pending("c1").length, 1);
  socket.connect();
  await waitUntil(() => socket.pending().length === 0, "sent after the reload");
  assert.deepEqual([...server.stored.values()].map((m) => m.text), ["Before the reload"]);
  socket.close();
});

test("frames that are not outbox acks reach the workspace", async () => {
  const server = new AgentServer();
  const { socket } = newSocket(server);
  const frames = [];
  socket.addEventListener("frame", (e) => frames.push(e.detail.type));
  socket.connect();
  await waitUntil(() => socket.state === "open", "open");
  server.push(server.sockets[0], { type: "offer", conversation_id: "c2" });
  server.push(server.sockets[0], { type: "ack", client_msg_id: "someone-else" });
  assert.deepEqual(frames, ["offer", "ack"]);
  socket.close();
});

test("not_connected (the server forgot the socket) reconnects, and the reply goes on the new socket", async () => {
  const server = new AgentServer();
  const { socket } = await openSocket(server);
  server.push(server.sockets[0], { type: "error", code: "not_connected", message: "reconnect" });
  await waitUntil(() => server.sockets.length === 2 && socket.state === "open", "the new socket");
  socket.reply({ conversation_id: "c1", text: "After" });
  await waitUntil(() => socket.pending().length === 0, "acked");
  assert.equal(server.stored.size, 1);
  socket.close();
});
