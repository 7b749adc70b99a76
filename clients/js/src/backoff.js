/**
 * Reconnect delays: exponential backoff with "equal jitter".
 *
 * The n-th retry (0-based) waits between half and all of `min(maxMs, baseMs * factor**n)`, so
 * thousands of clients dropped at once (a deploy, an API Gateway 2-hour close) do not reconnect
 * in lockstep, and no retry is ever immediate.
 *
 * @param {number} attempt 0 for the first retry
 * @param {{baseMs?: number, maxMs?: number, factor?: number, random?: () => number}} [options]
 * @returns {number} milliseconds to wait
 */
export function backoffDelay(attempt, { baseMs = 500, maxMs = 30_000, factor = 2, random = Math.random } = {}) {
  const n = Math.max(0, Math.floor(attempt));
  const cap = Math.min(maxMs, baseMs * Math.pow(factor, Math.min(n, 52)));
  return Math.round(cap / 2 + random() * (cap / 2));
}

/** A retry counter that hands out the next delay and is reset once a connection has held. */
export class Backoff {
  /** @param {{baseMs?: number, maxMs?: number, factor?: number, random?: () => number}} [options] */
  constructor(options = {}) {
    this.options = options;
    this.attempt = 0;
  }

  /** @returns {number} the delay before the next try, in milliseconds */
  next() {
    return backoffDelay(this.attempt++, this.options);
  }

  reset() {
    this.attempt = 0;
  }
}
