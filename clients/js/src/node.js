/**
 * Node >= 20 entry: everything from the main entry plus `nodeTransport()`, a dependency-free
 * WebSocket client (RFC 6455: masked client frames, fragmentation, ping/pong, close handshake) on
 * `node:http` / `node:https`. Unlike a browser, it reports the handshake's HTTP status in
 * `onClose({status})` (401 missing token, 403 forged or expired).
 */

import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import https from "node:https";

export * from "./index.js";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export function nodeTransport({ handshakeTimeoutMs = 10_000, headers = {} } = {}) {
  return {
    name: "node",
    open(url, handlers) {
      let socket = null;
      let done = false;
      let closeSent = false;
      const finish = (info) => {
        if (done) return;
        done = true;
        if (socket) socket.destroy();
        handlers.onClose(info);
      };
      const target = new URL(url.replace(/^ws/, "http"));
      const key = randomBytes(16).toString("base64");
      const lib = target.protocol === "https:" ? https : http;
      const request = lib.request(target, {
        headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Key": key,
          "Sec-WebSocket-Version": "13", "User-Agent": `cs-chat-sdk node/${process.versions.node}`, ...headers },
        timeout: handshakeTimeoutMs,
      });
      request.on("timeout", () => request.destroy(new Error("handshake timed out")));
      request.on("error", (error) => {
        handlers.onError(error);
        finish({ code: 1006, reason: error.message });
      });
      request.on("response", (response) => {
        response.resume();
        finish({ code: 1006, reason: `handshake refused: HTTP ${response.statusCode}`, status: response.statusCode });
      });
      request.on("upgrade", (response, sock, head) => {
        socket = sock;
        const expected = createHash("sha1").update(key + GUID).digest("base64");
        if (response.headers["sec-websocket-accept"] !== expected) {
          finish({ code: 1002, reason: "bad Sec-WebSocket-Accept" });
          return;
        }
        sock.setNoDelay(true);
        const parser = frameParser({
          text: (text) => handlers.onMessage(text),
          ping: (payload) => write(sock, 0xa, payload),
          close: (code, reason) => {
            if (!closeSent) {
              closeSent = true;
              write(sock, 0x8, closePayload(code ?? 1000, ""));
            }
            sock.end();
            finish({ code: code ?? 1005, reason });
          },
          error: (code, reason) => {
            write(sock, 0x8, closePayload(code, reason));
            finish({ code, reason });
          },
        });
        sock.on("data", parser);
        sock.on("error", (error) => handlers.onError(error));
        sock.on("close", () => finish({ code: 1006, reason: "connection lost" }));
        handlers.onOpen();
        if (head && head.length) parser(head);
      });
      request.end();
      return {
        send(text) {
          if (socket && !done && !closeSent) write(socket, 0x1, Buffer.from(text, "utf8"));
        },
        close(code = 1000, reason = "") {
          if (!socket) {
            request.destroy();
            finish({ code, reason });
            return;
          }
          if (!closeSent && !done) {
            closeSent = true;
            write(socket, 0x8, closePayload(code, reason));
            // the peer answers with its close frame; do not wait for ever
            setTimeout(() => finish({ code, reason }), 2000).unref?.();
          }
        },
      };
    },
  };
}

function closePayload(code, reason) {
  const text = Buffer.from(reason || "", "utf8");
  const payload = Buffer.alloc(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return payload;
}

function write(sock, opcode, payload) {
  const length = payload.length;
  const header = length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | opcode;
  if (length < 126) header[1] = 0x80 | length;
  else if (length < 65536) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i] ^ mask[i & 3];
  if (!sock.destroyed) sock.write(Buffer.concat([header, mask, masked]));
}

function frameParser(on) {
  let buffer = Buffer.alloc(0);
  let fragments = [];
  return (chunk) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    for (;;) {
      if (buffer.length < 2) return;
      const fin = (buffer[0] & 0x80) !== 0;
      const opcode = buffer[0] & 0x0f;
      const masked = (buffer[1] & 0x80) !== 0;
      let length = buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (masked) offset += 4;
      if (buffer.length < offset + length) return;
      let payload = buffer.subarray(offset, offset + length);
      if (masked) {
        const mask = buffer.subarray(offset - 4, offset);
        payload = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]));
      }
      buffer = buffer.subarray(offset + length);
      if (opcode === 0x8) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : undefined;
        on.close(code, payload.length > 2 ? payload.subarray(2).toString("utf8") : "");
        return;
      }
      if (opcode === 0x9) on.ping(Buffer.from(payload));
      else if (opcode === 0xa) continue;
      else if (opcode === 0x1 || opcode === 0x2 || opcode === 0x0) {
        fragments.push(Buffer.from(payload));
        if (fin) {
          const text = Buffer.concat(fragments).toString("utf8");
          fragments = [];
          on.text(text);
        }
      } else {
        on.error(1002, `unknown opcode ${opcode}`);
        return;
      }
    }
  };
}
