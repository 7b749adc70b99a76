/**
 * One logical WebSocket connection to the platform, kept alive across API Gateway's limits: what the
 * customer `ChatClient` and the agent console share.
 *
 * - A fresh token before every attempt (`token` may be a function; tokens expire), put in the URL with
 *   the given `params` (`{channel: "web"}` for customers, `{as: "agent"}` for agents).
 * - Reconnects with exponential backoff and jitter (`Backoff`), reset once a connection has held for
 *   `stableAfterMs` (or when the owner calls `backoff.reset()` after a full round trip).
 * - A `ping` when nothing was sent for `pingIntervalMs` (API Gateway closes sockets idle for 10 minutes)
 *   and a planned reconnect after `maxConnectionMs` (before its 2-hour hard close), at once, no backoff.
 * - Reconnects at once when the browser comes back online or the page becomes visible again.
 *
 * It knows no frames but `ping`: the owner gets `hooks` called synchronously, in this order —
 * `onToken(token)` before the socket is opened, `onOpen()` after `open` was emitted, `onFrame(text)`,
 * `onClose(info)` before `close` is emitted and the next attempt is planned, and `onTick(now)` on the
 * keep-alive tick (return `true` when it reconnected, to skip the ping). Events go through `emit(type,
 * detail)`: `state` ({state}), `open`, `close` ({code, reason, status}), `retry` ({delayMs, attempt}),
 * `transportError` and `error` (a ChatError `token_unavailable`).
 */

import { Backoff } from "./backoff.js";
import { ChatError } from "./errors.js";
import { defaultTransport } from "./transports.js";

export const States = Object.freeze({
  CONNECTING: "connecting",
  OPEN: "open",
  RECONNECTING: "reconnecting",
  OFFLINE: "offline",
});

export const CONNECTION_DEFAULTS = Object.freeze({
  pingIntervalMs: 5 * 60_000, // API Gateway closes sockets idle for 10 minutes
  maxConnectionMs: 115 * 60_000, // ... and every socket after 2 hours: reconnect before, at a time we choose
  stableAfterMs: 10_000, // a connection that held this long resets the backoff
});

/** The URL of one attempt: `url` with the token and `params` in its query. */
export function connectionUrl(url, token, params = {}) {
  const sep = url.includes("?") ? "&" : "?";
  const query = Object.entries(params).filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `&${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("");
  return `${url}${sep}token=${encodeURIComponent(token)}${query}`;
}

export class Connection {
  /**
   * @param {{url: string, token: string | (() => string | Promise<string>), params?: Record<string, string>,
   *   transport?: any, backoff?: object, pingIntervalMs?: number, maxConnectionMs?: number,
   *   stableAfterMs?: number}} options
   * @param {{onToken?: (token: string) => void, onOpen?: () => void, onFrame?: (text: string) => void,
   *   onClose?: (info: object) => void, onTick?: (now: number) => boolean | void}} [hooks]
   * @param {(type: string, detail: any) => void} [emit]
   */
  constructor(options, hooks = {}, emit = () => {}) {
    if (!options || !options.url) throw new TypeError("Connection({url, token}): url is required");
    if (!options.token) throw new TypeError("Connection({url, token}): token is required");
    this.options = { ...CONNECTION_DEFAULTS, ...options };
    this.transport = options.transport || defaultTransport();
    this.backoff = new Backoff(options.backoff);
    this.hooks = hooks;
    this.emit = emit;
    this.state = States.OFFLINE;
    /** Whether the owner wants to be connected (between `start()` and `stop()`). */
    this.wanted = false;
    /** Counts sockets: events of an older socket than `id` are ignored. */
    this.id = 0;
    this.socket = null;
    this.everOpened = false;
    this.timers = {};
    this.lastSentAt = 0;
    this._online = this._online.bind(this);
    this._visible = this._visible.bind(this);
  }

  get isOpen() {
    return this.state === States.OPEN;
  }

  /** Want the connection: opens a socket unless one is open or an attempt is planned. */
  start() {
    this.wanted = true;
    if (typeof addEventListener === "function") {
      globalThis.addEventListener("online", this._online);
      if (typeof document !== "undefined") document.addEventListener("visibilitychange", this._visible);
    }
    if (!this.socket && !this.timers.retry) this.open();
  }

  /** Close for good (no reconnect); the caller then settles what waited on the socket. */
  stop(code = 1000, reason = "client closed") {
    this.wanted = false;
    if (typeof removeEventListener === "function") {
      globalThis.removeEventListener("online", this._online);
      if (typeof document !== "undefined") document.removeEventListener("visibilitychange", this._visible);
    }
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    this.id++;
    if (socket) socket.close(code, reason);
  }

  /** Send a frame on the open socket; `false` when there is none (the caller keeps it for later). */
  send(frame) {
    if (!this.socket || this.state !== States.OPEN) return false;
    try {
      this.socket.send(JSON.stringify(frame));
      this.lastSentAt = Date.now();
      return true;
    } catch (error) {
      this.emit("transportError", error);
      return false;
    }
  }

  async _resolveToken() {
    const token = this.options.token;
    return typeof token === "function" ? await token() : token;
  }

  async open() {
    const id = ++this.id;
    this.setState(this.everOpened ? States.RECONNECTING : States.CONNECTING);
    let token;
    try {
      token = await this._resolveToken();
    } catch (error) {
      this.emit("error", new ChatError("token_unavailable", `the token function failed: ${error && error.message}`));
      this._scheduleRetry();
      return;
    }
    if (id !== this.id || !this.wanted) return;
    if (!token) {
      this.emit("error", new ChatError("token_unavailable", "the token function returned nothing"));
      this._scheduleRetry();
      return;
    }
    if (this.hooks.onToken) this.hooks.onToken(token);
    const url = connectionUrl(this.options.url, token, this.options.params);
    const socket = this.transport.open(url, {
      onOpen: () => id === this.id && this._onOpen(),
      onMessage: (text) => id === this.id && this.hooks.onFrame && this.hooks.onFrame(text),
      onError: (error) => id === this.id && this.emit("transportError", error),
      onClose: (info) => id === this.id && this._onClose(info || {}),
    });
    if (id === this.id) this.socket = socket;
  }

  _onOpen() {
    this.everOpened = true;
    this.lastSentAt = Date.now();
    this.setState(States.OPEN);
    this.emit("open", {});
    this.timers.stable = setTimeout(() => this.backoff.reset(), this.options.stableAfterMs);
    const every = Math.max(50, Math.min(this.options.pingIntervalMs / 4, 60_000));
    this.timers.ping = setInterval(() => this._keepAlive(), every);
    this.timers.planned = setTimeout(() => this._plannedReconnect(), this.options.maxConnectionMs);
    if (this.hooks.onOpen) this.hooks.onOpen();
  }

  _onClose(info) {
    this.socket = null;
    this.clearTimers();
    if (this.hooks.onClose) this.hooks.onClose(info);
    this.emit("close", { code: info.code, reason: info.reason, status: info.status });
    if (!this.wanted) {
      this.setState(States.OFFLINE);
      return;
    }
    if (info.planned) {
      this.open();
      return;
    }
    this._scheduleRetry();
  }

  _scheduleRetry() {
    if (!this.wanted) return;
    const offline = typeof navigator !== "undefined" && navigator && navigator.onLine === false;
    this.setState(offline ? States.OFFLINE : States.RECONNECTING);
    const delay = this.backoff.next();
    clearTimeout(this.timers.retry);
    this.timers.retry = setTimeout(() => {
      this.timers.retry = null;
      this.open();
    }, delay);
    this.emit("retry", { delayMs: delay, attempt: this.backoff.attempt });
  }

  _plannedReconnect() {
    if (!this.socket) return;
    const socket = this.socket;
    this.id++;
    socket.close(1000, "planned reconnect");
    this._onClose({ code: 1000, reason: "planned reconnect", planned: true });
  }

  /** Drop the current socket and reconnect now, with the backoff reset (a socket that answers nothing). */
  reconnect() {
    const socket = this.socket;
    this.id++;
    clearTimeout(this.timers.retry);
    this.timers.retry = null;
    if (socket) socket.close(4000, "reconnect");
    this.backoff.reset();
    this._onClose({ code: 4000, reason: "reconnect", planned: true });
  }

  _online() {
    if (this.wanted && this.state !== States.OPEN) {
      clearTimeout(this.timers.retry);
      this.timers.retry = null;
      this.backoff.reset();
      if (!this.socket) this.open();
    }
  }

  _visible() {
    if (typeof document !== "undefined" && document.visibilityState === "visible") this._online();
  }

  _keepAlive() {
    const now = Date.now();
    if (this.hooks.onTick && this.hooks.onTick(now)) return;
    if (now - this.lastSentAt >= this.options.pingIntervalMs) this.send({ action: "ping" });
  }

  /** Clears the timers of the open socket (not a planned retry). */
  clearTimers() {
    clearTimeout(this.timers.stable);
    clearInterval(this.timers.ping);
    clearTimeout(this.timers.planned);
    this.timers.stable = this.timers.ping = this.timers.planned = null;
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit("state", { state });
  }
}
