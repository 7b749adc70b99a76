/**
 * The messages a client has seen, each once (deduplicated by `message_id`), in conversation order:
 * by `seq` within a conversation (seq increases strictly; gaps are possible), conversations by time.
 */

/** Sort order of two messages. */
export function compareMessages(a, b) {
  if (a.conversation_id === b.conversation_id) return a.seq - b.seq;
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  return a.conversation_id < b.conversation_id ? -1 : 1;
}

export class Timeline {
  constructor() {
    /** @type {any[]} sorted */
    this.messages = [];
    this.byId = new Map();
  }

  /**
   * Adds a message unless it is already there.
   * @returns {number} its index in the sorted list, or -1 if it was a duplicate
   */
  add(message) {
    if (!message || typeof message.message_id !== "string" || this.byId.has(message.message_id)) return -1;
    this.byId.set(message.message_id, message);
    let i = this.messages.length;
    while (i > 0 && compareMessages(this.messages[i - 1], message) > 0) i--;
    this.messages.splice(i, 0, message);
    return i;
  }

  has(messageId) {
    return this.byId.has(messageId);
  }

  get size() {
    return this.messages.length;
  }

  /** The highest seq seen in one conversation (0 if none). */
  maxSeq(conversationId) {
    let max = 0;
    for (const m of this.messages) if (m.conversation_id === conversationId && m.seq > max) max = m.seq;
    return max;
  }

  /** The lowest seq seen in one conversation (null if none). */
  minSeq(conversationId) {
    let min = null;
    for (const m of this.messages) if (m.conversation_id === conversationId && (min === null || m.seq < min)) min = m.seq;
    return min;
  }
}
