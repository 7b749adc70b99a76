// The client against an in-memory stand-in of the server's frame protocol (the end-to-end tests in
// tests/clients/ run the same client against the real local stack).
import assert from "node:assert/strict";
import { test } from "node:test";

import { ChatClient, memoryStorage, Outbox } from "../src/index.js";

const TOKEN = `x.${Buffer.from(JSON.stringify({ sub: "alice" })).toString("base64url")}.y`;

class FakeServer {
  constructor() {
    this.messages = [];
    this.byClientId = new Map();
    this.sockets = [];
    this.received = [];
    this.urls = [];
    this.dropAfterStore = 0;
  }

  transport() {
    return {
      name: "fake",
      open: (url, handlers) => {
        this.urls.push(url);
        const socket = { handlers, open: true };
        this.sockets.push(socket);
        setImmediate(() => handlers.onOpen());
        return {
          send: (text) => setImmediate(() => socket.open && this.onFrame(socket, JSON.parse(text))),
          close: (code = 1000) => this.close(socket, code),
        };
      },
    };
  }

  close(socket, code = 1006) {
    if (!socket.open) return;
    socket.open = false;
    setImmediate(() => socket.handlers.onClose({ code, reason: "" }));
  }

  dropAll() {
    for (const s of this.sockets) this.close(s);
  }

  push(socket, frame) {
    if (socket.open) socket.handlers.onMessage(JSON.stringify(frame));
  }

  store(sender, text, clientMsgId) {
    const seq = this.messages.length ? this.messages.at(-1).seq + 1 : 1;
    const message = { message_id: `msg_${seq}`, conversation_id: "conv_1", seq, ts: new Date(1e12 + seq).toISOString(),
      sender, channel: "web", kind: "text", text, client_msg_id: clientMsgId };
    this.messages.push(message);
    return message;
  }

  /** A message from the other side (an agent), pushed to every open socket. */
  say(text) {
    const message = this.store({ type: "agent", id: "amy", name: "Amy" }, text);
    for (const s of this.sockets) this.push(s, { type: "message", message });
    return message;
  }

  onFrame(socket, frame) {
    this.received.push(frame);
    if (frame.action === "sendMessage") {
      let message = this.byClientId.get(frame.client_msg_id);
      const duplicate = Boolean(message);
      if (!message) {
        message = this.store({ type: "customer", id: "alice" }, frame.text, frame.client_msg_id);
        this.byClientId.set(frame.client_msg_id, message);
      }
      if (this.dropAfterStore > 0) {
        this.dropAfterStore--;
        this.close(socket); // stored, but the ack is lost with the socket
        return;
      }
      this.push(socket, { type: "ack", client_msg_id: frame.client_msg_id, message_id: message.message_id,
        seq: message.seq, ts: message.ts, conversation_id: message.conversation_id, ...(duplicate ? { duplicate } : {}) });
    } else if (frame.action === "history") {
      let list = this.messages;
      if (frame.after_seq !== undefined) list = list.filter((m) => m.seq > frame.after_seq);
      if (frame.before_seq !== undefined) list = list.filter((m) => m.seq < frame.before_seq);
      const limit = frame.limit || 50;
      const page = frame.after_seq !== undefined ? list.slice(0, limit) : list.slice(-limit);
      this.push(socket, { type: "history", conversation_id: this.messages.length ? "conv_1" : null, messages: page,
        has_more: list.length > page.length });
    } else if (frame.action === "ping") {
      this.push(socket, { type: "pong" });
    }
  }
}

const fastBackoff = { baseMs: 2, maxMs: 10 };
const until = (client, type, predicate = () => true) =>
  new Promise((resolve) => {
    const off = client.on(type, (detail) => {
      if (predicate(detail)) {
        off();
        resolve(detail);
      }
    });
  });

function newClient(server, storage = memoryStorage(), options = {}) {
  return new ChatClient({ url: "ws://test", token: TOKEN, transport: server.transport(), storage, backoff: fastBackoff,
    ...options });
}

test("send resolves with the stored message and the outbox empties", async () => {
  const server = new FakeServer();
  const client = newClient(server);
  await client.connect();
  const message = await client.send("hello");
  assert.equal(message.seq, 1);
  assert.equal(message.text, "hello");
  assert.deepEqual(client.pending, []);
  assert.deepEqual(client.messages.map((m) => m.message_id), ["msg_1"]);
  assert.match(server.urls[0], /token=x\.[^&]+&channel=web$/);
  client.close();
});

test("validation: empty and over-long texts are refused with the server's codes, nothing sent", async () => {
  const server = new FakeServer();
  const client = newClient(server);
  await client.connect();
  await assert.rejects(client.send("   "), { code: "empty_field" });
  await assert.rejects(client.send("x".repeat(4001)), { code: "text_too_long" });
  await client.send("😀".repeat(4000)); // 4,000 characters, 8,000 UTF-16 units: allowed
  assert.equal(server.received.filter((f) => f.action === "sendMessage").length, 1);
  await assert.rejects(client.rate(6), { code: "invalid_frame" });
  client.close();
});

test("a lost ack: the message is resent with the same client_msg_id after the reconnect, stored once", async () => {
  const server = new FakeServer();
  server.dropAfterStore = 1;
  const client = newClient(server);
  await client.connect();
  const message = await client.send("stored but not acknowledged");
  const sends = server.received.filter((f) => f.action === "sendMessage");
  assert.ok(server.sockets.length >= 2, "reconnected");
  assert.equal(server.messages.length, 1);
  assert.equal(message.message_id, "msg_1");
  if (sends.length > 1) assert.equal(new Set(sends.map((f) => f.client_msg_id)).size, 1);
  assert.deepEqual(client.pending, []);
  client.close();
});

test("the outbox survives a reload and is sent, with its ids, by the next client", async () => {
  const storage = memoryStorage();
  new Outbox(storage, "cs-chat:alice:outbox").add({ client_msg_id: "written-before-reload", text: "still here?",
    created_at: 1 });
  const server = new FakeServer();
  const client = newClient(server, storage);
  await client.connect();
  await until(client, "delivery", (d) => d.state === "sent");
  assert.equal(server.messages[0].client_msg_id, "written-before-reload");
  assert.equal(new Outbox(storage, "cs-chat:alice:outbox").size, 0);
  client.close();
});

test("resync after a drop asks history after the last seq it is sure of; nothing is doubled or lost", async () => {
  const server = new FakeServer();
  const client = newClient(server);
  const initial = until(client, "synced");
  await client.connect();
  await initial;
  const two = until(client, "message", (d) => d.message.text === "two");
  server.say("one");
  server.say("two");
  await two;
  const resynced = until(client, "synced");
  server.dropAll();
  await until(client, "state", (d) => d.state === "reconnecting");
  server.say("said while you were away"); // nobody is connected: only history has it
  const synced = await resynced;
  assert.equal(synced.initial, false);
  assert.ok(synced.sinceCloseMs >= 0);
  const resync = server.received.filter((f) => f.action === "history").at(-1);
  assert.equal(resync.after_seq, 0); // the first history was empty, so everything since seq 0
  assert.deepEqual(client.messages.map((m) => m.text), ["one", "two", "said while you were away"]);
  const again = until(client, "synced");
  server.dropAll();
  await again;
  assert.equal(server.received.filter((f) => f.action === "history").at(-1).after_seq, 3);
  assert.equal(client.messages.length, 3);
  client.close();
});

test("resync pages through has_more and emits each message once, in seq order", async () => {
  const server = new FakeServer();
  const client = newClient(server);
  const initial = until(client, "synced");
  await client.connect();
  await initial;
  const seen = [];
  client.on("message", ({ message }) => seen.push(message.seq));
  const resynced = until(client, "synced");
  server.dropAll();
  await until(client, "state", (d) => d.state === "reconnecting");
  for (let i = 1; i <= 230; i++) server.store({ type: "agent", id: "amy" }, `m${i}`);
  await resynced;
  assert.equal(seen.length, 230);
  assert.deepEqual(seen, [...seen].sort((a, b) => a - b));
  assert.ok(server.received.filter((f) => f.action === "history" && f.after_seq !== undefined).length >= 3);
  client.close();
});

test("loadOlder pages back from the oldest message seen", async () => {
  const server = new FakeServer();
  for (let i = 1; i <= 70; i++) server.store({ type: "agent", id: "amy" }, `m${i}`);
  const client = newClient(server, memoryStorage(), { historyLimit: 30 });
  const initial = until(client, "synced");
  await client.connect();
  await initial;
  assert.equal(client.messages[0].seq, 41);
  assert.equal(client.hasMoreOlder, true);
  const older = await client.loadOlder();
  assert.deepEqual([older[0].seq, older.at(-1).seq], [11, 40]);
  await client.loadOlder();
  assert.equal(client.messages.length, 70);
  assert.equal(client.hasMoreOlder, false);
  assert.deepEqual(await client.loadOlder(), []);
  client.close();
});

test("the token function is called again before every reconnect", async () => {
  const server = new FakeServer();
  let calls = 0;
  const client = new ChatClient({ url: "ws://test", transport: server.transport(), storage: memoryStorage(),
    backoff: fastBackoff, token: async () => `${TOKEN}${++calls}` });
  await client.connect();
  const reopened = until(client, "open");
  server.dropAll();
  await reopened;
  assert.equal(calls, 2);
  assert.match(server.urls[1], /y2&channel/);
  client.close();
});

test("quick replies, queue, agent and survey become typed events", async () => {
  const server = new FakeServer();
  const client = newClient(server);
  const events = [];
  for (const type of ["quickReplies", "queue", "agent", "survey"]) client.on(type, (d) => events.push(type));
  await client.connect();
  const socket = server.sockets[0];
  const base = { conversation_id: "conv_1", ts: "2026-12-01T10:00:00Z", channel: "web", kind: "text" };
  server.push(socket, { type: "message", message: { ...base, message_id: "b1", seq: 1, sender: { type: "bot", id: "bot" },
    text: "Which one?", meta: { quick_replies: [{ title: "Shipping", payload: "Shipping" }] } } });
  server.push(socket, { type: "queue", conversation_id: "conv_1", position: 2, estimated_wait_seconds: 240 });
  server.push(socket, { type: "message", message: { ...base, message_id: "s1", seq: 2, sender: { type: "system", id: "routing" },
    text: "Amy has joined the conversation.", meta: { routing: "assigned", agent: { name: "Amy" } } } });
  server.push(socket, { type: "message", message: { ...base, message_id: "s2", seq: 3, sender: { type: "system", id: "survey" },
    text: "How would you rate…", meta: { csat: { conversation_id: "conv_1", question: "csat", scale: [1, 5] },
      quick_replies: [1, 2, 3, 4, 5].map((n) => ({ title: `${n}`, payload: `csat:${n}` })) } } });
  assert.deepEqual(events, ["quickReplies", "queue", "agent", "agent", "survey"]);
  assert.deepEqual(client.survey && [client.survey.question, client.survey.min, client.survey.max], ["csat", 1, 5]);
  assert.equal(client.queue, null); // an agent took over
  client.close();
});

test("a ping goes out when the socket has been idle for pingIntervalMs", async () => {
  const server = new FakeServer();
  const client = newClient(server, memoryStorage(), { pingIntervalMs: 200 });
  await client.connect();
  const pong = until(client, "pong");
  await pong;
  assert.ok(server.received.some((f) => f.action === "ping"));
  client.close();
});

test("a planned reconnect happens before maxConnectionMs, and resyncs", async () => {
  const server = new FakeServer();
  const client = newClient(server, memoryStorage(), { maxConnectionMs: 300 });
  const initial = until(client, "synced");
  await client.connect();
  await initial;
  const resynced = until(client, "synced");
  await resynced;
  assert.ok(server.sockets.length >= 2, "a second socket was opened");
  assert.equal(server.sockets[0].open, false, "the first one was closed by the client");
  client.close();
});

test("a frame left unanswered for ackTimeoutMs means a dead socket: reconnect and resend", async () => {
  const server = new FakeServer();
  let swallow = true;
  const original = server.onFrame.bind(server);
  server.onFrame = (socket, frame) => {
    if (swallow && frame.action === "sendMessage") {
      swallow = false; // a half-open TCP connection: the frame goes nowhere
      return;
    }
    original(socket, frame);
  };
  const client = newClient(server, memoryStorage(), { ackTimeoutMs: 200 });
  await client.connect();
  const message = await client.send("into the void, then again");
  assert.equal(message.seq, 1);
  assert.ok(server.sockets.length >= 2);
  assert.equal(server.messages.length, 1);
  client.close();
});
