// End-to-end: the SDK against the local stack while its socket is cut in the middle of a burst.
//
// The customer's SDK client sends N messages while their other device (a raw socket) sends N more,
// which the server fans out to the SDK. After a quarter and again after half of the SDK's messages
// are acknowledged, the gateway drops the SDK's socket (MODE=close: a close frame; MODE=abort: the
// TCP connection cut without one). At the end the SDK's timeline must equal the server's history
// message for message (each once, in seq order), each text must be stored once and in the order
// it was written, and the outbox must be empty. Prints one JSON line with the figures.
//
// env: WS_URL, CONTROL_URL (the gateway's management server), TOKEN (customer JWT), SUBJECT (its
// sub), MODE (close|abort), N (default 50)
import assert from "node:assert/strict";

import { ChatClient, memoryStorage, nodeTransport } from "../src/node.js";
import { drop, rawPeer, serverHistory, waitFor } from "./wire.mjs";

const { WS_URL, CONTROL_URL, TOKEN, SUBJECT, MODE = "abort" } = process.env;
const N = Number(process.env.N || 50);
const url = `${WS_URL}/?token=${encodeURIComponent(TOKEN)}&channel=app`;

const storage = memoryStorage();
const client = new ChatClient({ url: WS_URL, token: () => TOKEN, channel: "web", transport: nodeTransport(), storage,
  backoff: { baseMs: 200, maxMs: 2000 } });
const resyncs = [];
const closes = [];
client.on("close", (c) => closes.push(c.code));
client.on("synced", (s) => s.initial || resyncs.push(s.sinceCloseMs));
await client.connect();
await new Promise((resolve) => (client._initialSynced ? resolve() : client.once("synced", resolve)));

const peer = await rawPeer(url);
const sdkTexts = Array.from({ length: N }, (_, i) => `sdk ${i}`);
const peerTexts = Array.from({ length: N }, (_, i) => `peer ${i}`);

let acked = 0;
const drops = [Math.floor(N / 4), Math.floor(N / 2)];
const sends = sdkTexts.map((text) => client.send(text).then(async (message) => {
  acked++;
  if (drops.includes(acked)) await drop(CONTROL_URL, SUBJECT, MODE);
  return message;
}));
const peerSends = (async () => {
  for (const [i, text] of peerTexts.entries()) {
    const id = `peer-${i}-${Date.now()}`;
    peer.send({ action: "sendMessage", client_msg_id: id, text });
    await peer.next((f) => f.type === "ack" && f.client_msg_id === id);
  }
})();
const stored = await Promise.all(sends);
await peerSends;
peer.close();

// the SDK has every message the server has (bot answers and system messages included), each once
let history = [];
await waitFor(async () => {
  history = await serverHistory(url);
  const ids = client.messages.map((m) => m.message_id);
  return history.length >= 2 * N && ids.length === history.length && ids.every((id, i) => id === history[i].message_id);
}, 240_000, "the SDK's timeline to equal the server's history");  // bot answers come from the effects queue

const ids = client.messages.map((m) => m.message_id);
assert.equal(new Set(ids).size, ids.length, "no message twice");
const seqs = client.messages.map((m) => m.seq);
assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), "in seq order");
const inOrder = (prefix, texts) => assert.deepEqual(
  history.filter((m) => m.sender.type === "customer" && m.text.startsWith(prefix)).map((m) => m.text), texts,
  `${prefix}: each stored once, in the order written`);
inOrder("sdk ", sdkTexts);
inOrder("peer ", peerTexts);
assert.deepEqual(stored.map((m) => m.text), sdkTexts);
assert.equal(client.pending.length, 0, "outbox empty");
assert.equal(storage.getItem(`cs-chat:${SUBJECT}:outbox`), null, "persisted outbox empty");
assert.ok(closes.length >= 2, `the socket was cut twice (closes: ${closes})`);
client.close();
console.log(JSON.stringify({ mode: MODE, messages: history.length, closes, resyncs }));
