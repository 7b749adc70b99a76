// End-to-end: the mini-program example page (clients/miniprogram) in Node, against the local stack.
//
// A stand-in `wx` gives the page what the WeChat runtime would: `connectSocket` returns a SocketTask
// backed by a real WebSocket to the local stack, `getStorageSync`/`setStorageSync` keep strings
// (answering "" for a missing key, as wx does), `login`/`request` hand out the customer token.
// The page's own code runs unchanged (`Page({...})` is captured and driven like the runtime would).
// Checks: a bot answer arrives; after the gateway cuts the socket the page resyncs with no gap;
// a message written while disconnected stays in wx storage through an "app restart" and is stored
// once. Prints one JSON line.
//
// env: WS_URL, CONTROL_URL, TOKEN, SUBJECT
import assert from "node:assert/strict";
import { createRequire } from "node:module";

import { nodeTransport } from "../src/node.js";
import { drop, serverHistory, waitFor } from "./wire.mjs";

const { WS_URL, CONTROL_URL, TOKEN, SUBJECT } = process.env;
const require = createRequire(import.meta.url);

function standInWx(store) {
  return {
    connectSocket({ url, fail }) {
      const listeners = { open: [], message: [], close: [], error: [] };
      const emit = (type, arg) => listeners[type].forEach((fn) => fn(arg));
      const socket = nodeTransport({ headers: { "User-Agent": "wechat-miniprogram-standin" } }).open(url, {
        onOpen: () => emit("open", {}),
        onMessage: (data) => emit("message", { data }),
        onError: (error) => emit("error", { errMsg: String(error && error.message) }),
        onClose: ({ code, reason }) => emit("close", { code, reason }),
      });
      if (typeof fail !== "function") throw new Error("the SDK should pass a fail callback");
      return {
        onOpen: (fn) => listeners.open.push(fn),
        onMessage: (fn) => listeners.message.push(fn),
        onClose: (fn) => listeners.close.push(fn),
        onError: (fn) => listeners.error.push(fn),
        send: ({ data }) => socket.send(data),
        close: ({ code, reason } = {}) => socket.close(code, reason),
      };
    },
    getStorageSync: (key) => (store.has(key) ? store.get(key) : ""),
    setStorageSync: (key, value) => void store.set(key, value),
    removeStorageSync: (key) => void store.delete(key),
    login: ({ success }) => setImmediate(() => success({ code: "code-from-wx-login" })),
    request: ({ data, success }) => setImmediate(() => {
      assert.equal(data.code, "code-from-wx-login");
      success({ statusCode: 200, data: { token: TOKEN } });
    }),
  };
}

function loadPage() {
  let definition = null;
  globalThis.Page = (def) => (definition = def);
  globalThis.getApp = () => ({ globalData: { wsUrl: WS_URL, tokenUrl: "https://backend.example/chat/token" } });
  const path = require.resolve("../../miniprogram/pages/chat/chat.js");
  delete require.cache[path];
  require(path);
  const page = Object.create(definition);
  page.data = JSON.parse(JSON.stringify(definition.data));
  page.setData = (patch) => Object.assign(page.data, patch);
  return page;
}

const store = new Map();
globalThis.wx = standInWx(store);
const started = Date.now();

// 1. the page connects through wx.connectSocket and the bot answers
let page = loadPage();
page.onLoad();
await waitFor(() => page.data.state === "open", 30_000, "the page to connect");
page.onInput({ detail: { value: "Is shipping free?" } });
page.onSend();
await waitFor(() => page.data.messages.some((m) => m.who === "智能助手"), 30_000, "the bot's answer");

// 2. the gateway cuts the socket; a message is written while it is down; the app is "restarted"
const outboxKey = `cs-chat:${SUBJECT}:outbox`;
await drop(CONTROL_URL, SUBJECT, "abort", "wechat-miniprogram-standin");
await waitFor(() => page.data.state !== "open", 10_000, "the page to notice the cut");
page.client.close(); // stop it from reconnecting before the message is written: it must wait in storage
page.onInput({ detail: { value: "Written while the socket was down" } });
page.onSend();
await waitFor(() => store.has(outboxKey), 5000, "the message to be persisted with wx.setStorageSync");
page.onUnload();

page = loadPage(); // the app starts again: a new page, the same wx storage
page.onLoad();
await waitFor(() => page.data.messages.some((m) => m.text === "Written while the socket was down") && !store.has(outboxKey),
  30_000, "the stored outbox to be sent after the restart");

// 3. the page shows exactly the server's history (bot answers included)
const url = `${WS_URL}/?token=${encodeURIComponent(TOKEN)}`;
let history = [];
await waitFor(async () => {
  history = await serverHistory(url);
  const ids = page.data.messages.map((m) => m.id);
  return ids.length === history.length && ids.every((id, i) => id === history[i].message_id);
}, 30_000, "the page to show the server's history");
assert.equal(history.filter((m) => m.text === "Written while the socket was down").length, 1, "stored once");
page.onUnload();
console.log(JSON.stringify({ messages: history.length, seconds: (Date.now() - started) / 1000 }));
