// The shared connection machinery (src/connection.js): token per attempt, URL params, backoff,
// ping when idle, planned reconnect, hook order — against a scripted in-memory transport.
import assert from "node:assert/strict";
import { after, test } from "node:test";

import { Connection, connectionUrl, States } from "../src/index.js";

/** A transport whose sockets open on the next turn and record what was sent. */
function fakeTransport() {
  const t = {
    urls: [],
    sockets: [],
    name: "fake",
    open(url, handlers) {
      t.urls.push(url);
      const socket = { handlers, sent: [], open: true, closedWith: null };
      t.sockets.push(socket);
      setImmediate(() => socket.open && handlers.onOpen());
      return {
        send: (text) => socket.sent.push(JSON.parse(text)),
        close: (code = 1000, reason = "") => {
          if (!socket.open) return;
          socket.open = false;
          socket.closedWith = code;
          setImmediate(() => handlers.onClose({ code, reason }));
        },
      };
    },
    cut(socket = t.sockets.at(-1)) {
      socket.open = false;
      setImmediate(() => socket.handlers.onClose({ code: 1006, reason: "" }));
    },
  };
  return t;
}

const made = [];
after(() => made.forEach((c) => c.stop())); // a failed test leaves no timer running
const track = (connection) => (made.push(connection), connection);

function recorder() {
  const events = [];
  return { events, emit: (type, detail) => events.push([type, detail]) };
}

const waitUntil = async (predicate, what, ms = 2000) => {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

test("the URL carries the token and the params, encoded", () => {
  assert.equal(connectionUrl("wss://x/api", "a b", { as: "agent" }), "wss://x/api?token=a%20b&as=agent");
  assert.equal(connectionUrl("ws://x/?v=1", "t", { channel: "web" }), "ws://x/?v=1&token=t&channel=web");
});

test("a fresh token before every attempt, and hooks in order: token, open, frame, close", async () => {
  const transport = fakeTransport();
  const { events, emit } = recorder();
  const calls = [];
  let n = 0;
  const connection = track(new Connection({ url: "ws://test", token: async () => `tok${++n}`, params: { as: "agent" },
    transport, backoff: { baseMs: 2, maxMs: 4 } }, {
    onToken: (token) => calls.push(`token ${token}`),
    onOpen: () => calls.push(`open ${connection.state}`),
    onFrame: (text) => calls.push(`frame ${text}`),
    onClose: () => calls.push(`close ${connection.state}`),
  }, emit));
  connection.start();
  await waitUntil(() => connection.isOpen, "open");
  transport.sockets[0].handlers.onMessage('{"type":"pong"}');
  transport.cut();
  await waitUntil(() => transport.sockets.length === 2 && connection.isOpen, "the reconnect");
  assert.deepEqual(transport.urls, ["ws://test?token=tok1&as=agent", "ws://test?token=tok2&as=agent"]);
  assert.deepEqual(calls, ["token tok1", "open open", 'frame {"type":"pong"}', "close open", "token tok2",
    "open open"]);
  const types = events.map(([type]) => type);
  assert.deepEqual(types.filter((t) => t !== "state"), ["open", "close", "retry", "open"]);
  assert.deepEqual(events.filter(([t]) => t === "state").map(([, d]) => d.state),
    [States.CONNECTING, States.OPEN, States.RECONNECTING, States.OPEN]);
  connection.stop();
  assert.equal(transport.sockets[1].closedWith, 1000);
});

test("frames of an older socket are ignored", async () => {
  const transport = fakeTransport();
  const frames = [];
  const connection = track(new Connection({ url: "ws://test", token: "t", transport, backoff: { baseMs: 2, maxMs: 4 } },
    { onFrame: (text) => frames.push(text) }));
  connection.start();
  await waitUntil(() => connection.isOpen, "open");
  const old = transport.sockets[0];
  connection.reconnect();
  old.handlers.onMessage("late");
  await waitUntil(() => transport.sockets.length === 2 && connection.isOpen, "the reconnect");
  assert.deepEqual(frames, []);
  connection.stop();
});

test("retries back off with jitter until the backoff is reset by a stable connection", async () => {
  const transport = fakeTransport();
  const { events, emit } = recorder();
  const connection = track(new Connection({ url: "ws://test", token: "t", transport, stableAfterMs: 30,
    backoff: { baseMs: 4, maxMs: 1000, random: () => 1 } }, {}, emit));
  connection.start();
  await waitUntil(() => connection.isOpen, "open");
  for (let i = 0; i < 3; i++) {
    const count = transport.sockets.length;
    transport.cut();
    await waitUntil(() => transport.sockets.length === count + 1 && connection.isOpen, "a reconnect");
  }
  const delays = events.filter(([t]) => t === "retry").map(([, d]) => d.delayMs);
  assert.deepEqual(delays, [4, 8, 16]);
  await waitUntil(() => connection.backoff.attempt === 0, "the stable reset", 2000);
  connection.stop();
});

test("a ping after the idle interval, and none while frames go out", async () => {
  const transport = fakeTransport();
  const connection = track(new Connection({ url: "ws://test", token: "t", transport, pingIntervalMs: 200 }));
  connection.start();
  await waitUntil(() => connection.isOpen, "open");
  const socket = transport.sockets[0];
  await waitUntil(() => socket.sent.some((f) => f.action === "ping"), "a ping", 3000);
  connection.stop();
});

test("the keep-alive tick can reconnect instead of pinging (a frame unanswered too long)", async () => {
  const transport = fakeTransport();
  let dead = true;
  const connection = track(new Connection({ url: "ws://test", token: "t", transport, pingIntervalMs: 200 }, {
    onTick: () => {
      if (!dead) return false;
      dead = false;
      connection.reconnect();
      return true;
    },
  }));
  connection.start();
  await waitUntil(() => transport.sockets.length === 2 && connection.isOpen, "the reconnect", 3000);
  assert.equal(transport.sockets[0].closedWith, 4000);
  assert.ok(!transport.sockets[0].sent.some((f) => f.action === "ping"));
  connection.stop();
});

test("a planned reconnect after maxConnectionMs opens the next socket at once", async () => {
  const transport = fakeTransport();
  const { events, emit } = recorder();
  const connection = track(new Connection({ url: "ws://test", token: "t", transport, maxConnectionMs: 30,
    backoff: { baseMs: 60_000 } }, {}, emit));
  connection.start();
  await waitUntil(() => transport.sockets.length >= 2 && connection.isOpen, "the planned reconnect");
  assert.equal(transport.sockets[0].closedWith, 1000);
  assert.ok(!events.some(([t]) => t === "retry"), "no backoff for a planned reconnect");
  connection.stop();
});

test("a failing token function is retried with backoff and reported", async () => {
  const transport = fakeTransport();
  const { events, emit } = recorder();
  let calls = 0;
  const connection = track(new Connection({ url: "ws://test", transport, backoff: { baseMs: 2, maxMs: 4 },
    token: async () => { if (++calls === 1) throw new Error("refresh failed"); return "t"; } }, {}, emit));
  connection.start();
  await waitUntil(() => connection.isOpen, "open");
  const error = events.find(([t]) => t === "error")[1];
  assert.equal(error.code, "token_unavailable");
  assert.equal(transport.sockets.length, 1);
  connection.stop();
});

test("send is false while no socket is open; stop closes without reconnecting", async () => {
  const transport = fakeTransport();
  const connection = track(new Connection({ url: "ws://test", token: "t", transport, backoff: { baseMs: 2, maxMs: 4 } }));
  assert.equal(connection.send({ action: "ping" }), false);
  connection.start();
  await waitUntil(() => connection.isOpen, "open");
  assert.equal(connection.send({ action: "work" }), true);
  connection.stop();
  await new Promise((r) => setImmediate(r)); // the socket's close is delivered (and ignored)
  await new Promise((r) => setImmediate(r));
  assert.equal(transport.sockets[0].closedWith, 1000);
  assert.equal(connection.timers.retry, undefined, "no retry planned");
  assert.equal(transport.sockets.length, 1);
  assert.equal(connection.send({ action: "ping" }), false);
});
