/**
 * Messages the server has not acknowledged yet, in the order they were written, persisted on every
 * change so that they survive a reload or an app restart. Each keeps the `client_msg_id` it was
 * created with, so a resend after a reconnect is stored once by the server (which answers a
 * duplicate with the same `message_id`).
 */

/** @typedef {{client_msg_id: string, text: string, created_at: number, [more: string]: any}} OutboxEntry */

export class Outbox {
  /**
   * @param {{getItem(k: string): string|null, setItem(k: string, v: string): void, removeItem(k: string): void}} storage
   * @param {string} key
   */
  constructor(storage, key) {
    this.storage = storage;
    this.key = key;
    /** @type {OutboxEntry[]} */
    this.entries = load(storage, key);
  }

  /** @param {OutboxEntry} entry */
  add(entry) {
    if (!this.has(entry.client_msg_id)) {
      this.entries.push({ ...entry }); // what else the entry carries (the agent console: its frame) is kept too
      this.save();
    }
  }

  /** @returns {boolean} whether it was there */
  remove(clientMsgId) {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.client_msg_id !== clientMsgId);
    if (this.entries.length !== before) {
      this.save();
      return true;
    }
    return false;
  }

  has(clientMsgId) {
    return this.entries.some((e) => e.client_msg_id === clientMsgId);
  }

  get(clientMsgId) {
    return this.entries.find((e) => e.client_msg_id === clientMsgId);
  }

  /** @returns {OutboxEntry | undefined} the oldest entry */
  first() {
    return this.entries[0];
  }

  get size() {
    return this.entries.length;
  }

  /** @returns {OutboxEntry[]} a copy, oldest first */
  list() {
    return this.entries.map((e) => ({ ...e }));
  }

  save() {
    if (this.entries.length) this.storage.setItem(this.key, JSON.stringify(this.entries));
    else this.storage.removeItem(this.key);
  }
}

function load(storage, key) {
  try {
    const raw = storage.getItem(key);
    const parsed = raw ? JSON.parse(raw) : [];
    return Array.isArray(parsed)
      ? parsed.filter((e) => e && typeof e.client_msg_id === "string" && typeof e.text === "string")
      : [];
  } catch {
    return []; // unreadable (hand-edited, another version): start empty rather than fail
  }
}
