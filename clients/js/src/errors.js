/**
 * Typed errors with the server's error codes (README "WebSocket contract").
 *
 * The SDK raises the same codes before sending when it can tell the server would refuse a frame
 * (`empty_field`, `text_too_long`), so an app handles both the same way: `err.code`.
 */

/** Codes the server sends in `error` frames, plus the SDK's own (`closed`, `timeout`, `server_error`). */
export const ErrorCodes = Object.freeze({
  INVALID_JSON: "invalid_json",
  UNKNOWN_ACTION: "unknown_action",
  MISSING_FIELD: "missing_field",
  EMPTY_FIELD: "empty_field",
  TEXT_TOO_LONG: "text_too_long",
  INVALID_FRAME: "invalid_frame",
  FORBIDDEN: "forbidden",
  NOT_CONNECTED: "not_connected",
  NOT_FOUND: "not_found",
  CLOSED: "closed",
  TIMEOUT: "timeout",
  SERVER_ERROR: "server_error",
});

/** Codes after which resending the same frame can never succeed. */
export const PERMANENT_CODES = new Set([
  "invalid_json", "unknown_action", "missing_field", "empty_field", "text_too_long", "invalid_frame", "forbidden",
]);

export const MAX_TEXT_CHARS = 4000;

export class ChatError extends Error {
  /**
   * @param {string} code one of ErrorCodes (or a newer server code)
   * @param {string} message
   * @param {{clientMsgId?: string, details?: unknown}} [extra]
   */
  constructor(code, message, { clientMsgId, details } = {}) {
    super(message);
    this.name = "ChatError";
    this.code = code;
    this.clientMsgId = clientMsgId;
    this.details = details;
  }

  /** @param {{code: string, message?: string, client_msg_id?: string, details?: unknown}} frame */
  static fromFrame(frame) {
    return new ChatError(frame.code || "server_error", frame.message || frame.code || "error",
      { clientMsgId: frame.client_msg_id, details: frame.details });
  }
}

/** Characters as the server counts them (code points, not UTF-16 units). */
export function textLength(text) {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * Throws the ChatError the server would answer for this text, if any.
 * @param {unknown} text
 */
export function validateText(text) {
  if (typeof text !== "string") {
    throw new ChatError("invalid_frame", "text must be a string", { details: ["text"] });
  }
  if (!text.trim()) throw new ChatError("empty_field", "empty field(s): text", { details: ["text"] });
  if (textLength(text) > MAX_TEXT_CHARS) {
    throw new ChatError("text_too_long", `text is longer than ${MAX_TEXT_CHARS} characters`, { details: ["text"] });
  }
}
