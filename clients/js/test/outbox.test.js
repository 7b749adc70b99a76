import assert from "node:assert/strict";
import { test } from "node:test";

import { Outbox } from "../src/outbox.js";
import { memoryStorage, wxStorage } from "../src/storage.js";

const entry = (id, text = `text ${id}`) => ({ client_msg_id: id, text, created_at: 1 });

test("outbox entries survive a reload: a new Outbox on the same storage has them, in order", () => {
  const storage = memoryStorage();
  const outbox = new Outbox(storage, "cs-chat:alice:outbox");
  outbox.add(entry("a"));
  outbox.add(entry("b"));
  outbox.add(entry("c"));
  outbox.remove("b");
  const reloaded = new Outbox(storage, "cs-chat:alice:outbox");
  assert.deepEqual(reloaded.list().map((e) => e.client_msg_id), ["a", "c"]);
  assert.equal(reloaded.first().text, "text a");
});

test("the same client_msg_id is kept once, and an emptied outbox leaves no key behind", () => {
  const storage = memoryStorage();
  const outbox = new Outbox(storage, "k");
  outbox.add(entry("a"));
  outbox.add(entry("a", "again"));
  assert.equal(outbox.size, 1);
  assert.equal(outbox.get("a").text, "text a");
  assert.equal(outbox.remove("a"), true);
  assert.equal(outbox.remove("a"), false);
  assert.equal(storage.getItem("k"), null);
});

test("customers do not share an outbox", () => {
  const storage = memoryStorage();
  new Outbox(storage, "cs-chat:alice:outbox").add(entry("a"));
  assert.equal(new Outbox(storage, "cs-chat:bob:outbox").size, 0);
});

test("an unreadable stored outbox starts empty instead of failing", () => {
  const storage = memoryStorage();
  storage.setItem("k", "{not json");
  assert.equal(new Outbox(storage, "k").size, 0);
  storage.setItem("k", JSON.stringify([{ client_msg_id: "a", text: "ok" }, { bad: true }, null]));
  assert.deepEqual(new Outbox(storage, "k").list().map((e) => e.client_msg_id), ["a"]);
});

test("mini-program storage: the outbox persists through wx.setStorageSync", () => {
  const data = new Map();
  const wx = {
    getStorageSync: (k) => (data.has(k) ? data.get(k) : ""), // wx answers "" for a missing key
    setStorageSync: (k, v) => data.set(k, v),
    removeStorageSync: (k) => data.delete(k),
  };
  const outbox = new Outbox(wxStorage(wx), "cs-chat:alice:outbox");
  outbox.add(entry("a"));
  assert.ok(data.has("cs-chat:alice:outbox"));
  assert.deepEqual(new Outbox(wxStorage(wx), "cs-chat:alice:outbox").list().map((e) => e.client_msg_id), ["a"]);
  outbox.remove("a");
  assert.equal(data.has("cs-chat:alice:outbox"), false);
});
