/**
 * @cs-platform/chat-sdk: the customer side of the platform's WebSocket chat, for browsers, WeChat
 * mini-programs and Node. Start with `connect({url, token})`; see README "Clients".
 */

import { ChatClient } from "./client.js";

export { Backoff, backoffDelay } from "./backoff.js";
export { ChatClient, surveyOf, tokenSubject } from "./client.js";
export { Connection, CONNECTION_DEFAULTS, connectionUrl, States } from "./connection.js";
export { ChatError, ErrorCodes, MAX_TEXT_CHARS, PERMANENT_CODES, textLength, validateText } from "./errors.js";
export { Outbox } from "./outbox.js";
export { browserStorage, defaultStorage, memoryStorage, wxStorage } from "./storage.js";
export { compareMessages, Timeline } from "./timeline.js";
export { browserTransport, defaultTransport, wxTransport } from "./transports.js";

/**
 * Create a client and start connecting. Events start at once; `await client.connect()` again to
 * wait for the first open socket.
 * @param {import("./index.js").ConnectOptions} options
 * @returns {ChatClient}
 */
export function connect(options) {
  const client = new ChatClient(options);
  client.connect().catch(() => {});
  return client;
}
