import assert from "node:assert/strict";
import { test } from "node:test";

import { Backoff, backoffDelay } from "../src/backoff.js";

test("backoff grows exponentially and is capped", () => {
  const top = () => 1; // the largest jitter
  assert.deepEqual([0, 1, 2, 3].map((n) => backoffDelay(n, { random: top })), [500, 1000, 2000, 4000]);
  assert.equal(backoffDelay(20, { random: top }), 30_000);
  assert.equal(backoffDelay(1e6, { random: top, maxMs: 5000 }), 5000);
});

test("jitter keeps every delay between half and all of the step, never zero", () => {
  for (let n = 0; n < 12; n++) {
    const cap = Math.min(30_000, 500 * 2 ** n);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(n);
      assert.ok(d >= cap / 2 && d <= cap, `attempt ${n}: ${d} outside [${cap / 2}, ${cap}]`);
    }
  }
  assert.equal(backoffDelay(0, { random: () => 0 }), 250);
});

test("jitter spreads clients that dropped together", () => {
  const delays = new Set(Array.from({ length: 100 }, () => backoffDelay(5)));
  assert.ok(delays.size > 50, `only ${delays.size} distinct delays out of 100`);
});

test("Backoff counts attempts and starts over after reset", () => {
  const b = new Backoff({ random: () => 1 });
  assert.deepEqual([b.next(), b.next(), b.next()], [500, 1000, 2000]);
  b.reset();
  assert.equal(b.next(), 500);
});
