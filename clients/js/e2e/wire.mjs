// Helpers for the end-to-end scripts: a raw protocol peer (no SDK logic) and the gateway's control hook.
import { nodeTransport } from "../src/node.js";

/** A bare socket speaking the frame protocol: `request(frame, type)` waits for the next frame of a type. */
export function rawPeer(url) {
  return new Promise((resolve, reject) => {
    const waiters = [];
    const frames = [];
    const socket = nodeTransport({ headers: { "User-Agent": "e2e-raw-peer" } }).open(url, {
      onOpen: () => resolve(peer),
      onMessage: (text) => {
        const frame = JSON.parse(text);
        frames.push(frame);
        const i = waiters.findIndex((w) => w.match(frame));
        if (i >= 0) waiters.splice(i, 1)[0].resolve(frame);
      },
      onError: () => {},
      onClose: (info) => reject(new Error(`peer socket closed: ${JSON.stringify(info)}`)),
    });
    const peer = {
      frames,
      send: (frame) => socket.send(JSON.stringify(frame)),
      next: (match, timeoutMs = 30_000) => new Promise((res, rej) => {
        const waiter = { match, resolve: (f) => { clearTimeout(timer); res(f); } };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          // say what came instead (an `error` frame, say), not only that nothing matched
          const recent = frames.slice(-5).map((f) => JSON.stringify(f).slice(0, 300)).join("\n  ");
          rej(new Error(`peer: no matching frame in time; its last frames:\n  ${recent}`));
        }, timeoutMs);
        waiters.push(waiter);
      }),
      close: () => socket.close(),
    };
  });
}

/**
 * All messages of the customer's current conversation, as the server has them (history pages).
 *
 * Each call opens a new socket, and a fan-out racing its `$connect` (posted after the app stored the
 * connection, before the gateway knows it: 410) makes the app forget the fresh connection; its first
 * frame is then answered `not_connected`. As the protocol says, a client reconnects then.
 */
export async function serverHistory(url) {
  for (let attempt = 1; ; attempt++) {
    const peer = await rawPeer(url);
    try {
      const all = [];
      let after = 0;
      for (;;) {
        peer.send({ action: "history", after_seq: after, limit: 100 });
        const page = await peer.next((f) => f.type === "history" || (f.type === "error" && f.code === "not_connected"));
        if (page.type === "error") throw Object.assign(new Error("peer: not_connected"), { notConnected: true });
        all.push(...page.messages);
        if (!page.has_more || !page.messages.length) return all;
        after = page.messages.at(-1).seq;
      }
    } catch (error) {
      if (!error.notConnected || attempt >= 5) throw error;
    } finally {
      peer.close();
    }
  }
}

/** Close (`close`) or cut (`abort`) a customer's sockets from the gateway side (local/gateway.py). */
export async function drop(controlUrl, subject, mode, userAgent = "cs-chat-sdk") {
  const response = await fetch(`${controlUrl}/_control/drop`, { method: "POST",
    body: JSON.stringify({ subject, mode, user_agent: userAgent }) });
  return (await response.json()).dropped;
}

export function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      try {
        if (await predicate()) return resolve();
      } catch (error) {
        return reject(error);
      }
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 100);
    };
    tick();
  });
}

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
