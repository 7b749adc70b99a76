export * from "./index.js";
import type { Transport } from "./index.js";
/** A dependency-free WebSocket client for Node >= 20; `onClose` reports the handshake's HTTP status. */
export declare function nodeTransport(options?: { handshakeTimeoutMs?: number; headers?: Record<string, string> }): Transport;
