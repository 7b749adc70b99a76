import assert from "node:assert/strict";
import { test } from "node:test";

import { compareMessages, Timeline } from "../src/timeline.js";

const msg = (seq, conversation = "c1", ts = `2026-12-01T10:00:${String(seq).padStart(2, "0")}Z`) =>
  ({ message_id: `m-${conversation}-${seq}`, conversation_id: conversation, seq, ts, text: `#${seq}` });

test("dedupe: the same message_id is kept once, whichever copy comes first", () => {
  const t = new Timeline();
  assert.equal(t.add(msg(1)), 0);
  assert.equal(t.add({ ...msg(1), text: "a second copy from history" }), -1);
  assert.equal(t.size, 1);
  assert.equal(t.messages[0].text, "#1");
  assert.equal(t.add(null), -1);
  assert.equal(t.add({ seq: 3 }), -1);
});

test("ordering: messages are kept in seq order whatever the arrival order, gaps allowed", () => {
  const t = new Timeline();
  for (const seq of [5, 1, 9, 2, 7]) t.add(msg(seq));
  assert.deepEqual(t.messages.map((m) => m.seq), [1, 2, 5, 7, 9]);
  assert.equal(t.add(msg(6)), 3); // the index it was inserted at
  assert.equal(t.maxSeq("c1"), 9);
  assert.equal(t.minSeq("c1"), 1);
  assert.equal(t.maxSeq("other"), 0);
  assert.equal(t.minSeq("other"), null);
});

test("ordering: a later conversation comes after an earlier one, even with smaller seqs", () => {
  const t = new Timeline();
  t.add(msg(1, "c2", "2026-12-01T11:00:00Z"));
  t.add(msg(40, "c1", "2026-12-01T10:00:00Z"));
  t.add(msg(2, "c2", "2026-12-01T11:00:01Z"));
  assert.deepEqual(t.messages.map((m) => `${m.conversation_id}/${m.seq}`), ["c1/40", "c2/1", "c2/2"]);
  assert.ok(compareMessages(msg(3, "c1"), msg(2, "c1")) > 0);
});

test("a live burst and a history page that overlap end up once each, in order", () => {
  const t = new Timeline();
  const live = [3, 1, 4, 2].map((s) => msg(s));
  const history = [1, 2, 3, 4, 5, 6].map((s) => msg(s));
  const added = [...live, ...history].filter((m) => t.add(m) >= 0);
  assert.equal(added.length, 6);
  assert.deepEqual(t.messages.map((m) => m.seq), [1, 2, 3, 4, 5, 6]);
});
