// Benchmark: from the socket's close to "history resynced", against the local stack (bench/sdk_reconnect.py).
//
// RUNS times: the gateway closes (even runs) or cuts (odd runs) the SDK's socket while the customer's
// other device writes 3 messages; the time is taken from the SDK's `close` event to its `synced` event
// after the reconnect, and the 3 messages must then be in the SDK's timeline. The SDK runs with its
// default backoff (first retry after 250-500 ms, jittered). Prints one JSON line.
//
// env: WS_URL, CONTROL_URL, TOKEN, SUBJECT, RUNS (default 20)
import { ChatClient, memoryStorage, nodeTransport } from "../src/node.js";
import { drop, percentile, rawPeer, waitFor } from "./wire.mjs";

const { WS_URL, CONTROL_URL, TOKEN, SUBJECT } = process.env;
const RUNS = Number(process.env.RUNS || 20);
const client = new ChatClient({ url: WS_URL, token: () => TOKEN, transport: nodeTransport(), storage: memoryStorage() });
await client.connect();
await new Promise((resolve) => (client._initialSynced ? resolve() : client.once("synced", resolve)));
const peer = await rawPeer(`${WS_URL}/?token=${encodeURIComponent(TOKEN)}`);

const total = [];
const afterOpen = [];
let openedAt = 0;
client.on("open", () => (openedAt = Date.now()));
for (let run = 0; run < RUNS; run++) {
  await new Promise((r) => setTimeout(r, 300)); // let the bot's answers of the last run settle
  const synced = new Promise((resolve) => client.once("synced", resolve));
  const closed = new Promise((resolve) => client.once("close", resolve));
  await drop(CONTROL_URL, SUBJECT, run % 2 ? "abort" : "close");
  await closed;
  const texts = [0, 1, 2].map((i) => `run ${run} message ${i}`);
  for (const [i, text] of texts.entries()) {
    peer.send({ action: "sendMessage", client_msg_id: `r${run}-${i}-${Date.now()}`, text });
  }
  const result = await synced;
  total.push(result.sinceCloseMs);
  afterOpen.push(Date.now() - openedAt);
  await waitFor(() => texts.every((t) => client.messages.some((m) => m.text === t)), 20_000, `run ${run} messages`);
}
peer.close();
client.close();
const stats = (values) => ({ p50: percentile(values, 50), max: Math.max(...values), min: Math.min(...values) });
console.log(JSON.stringify({ runs: RUNS, close_to_resynced_ms: stats(total), open_to_resynced_ms: stats(afterOpen),
  samples_ms: total }));
