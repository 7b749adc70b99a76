/**
 * Transports: how the client opens a socket where it runs. Each is a function-holder
 * `{name, open(url, handlers)}` returning `{send(text), close(code?, reason?)}`; `handlers` are
 * `onOpen()`, `onMessage(text)`, `onClose({code, reason, status?})` (called exactly once per open,
 * also when the handshake fails) and `onError(error)`.
 *
 * - `browserTransport()`: the browser's `WebSocket` (also Node >= 22's global `WebSocket`).
 * - `wxTransport(wx)`: a WeChat mini-program's `wx.connectSocket` / `SocketTask`.
 * - `nodeTransport()` (from `@cs-platform/chat-sdk/node`): Node >= 20 without dependencies.
 */

function once(fn) {
  let called = false;
  return (arg) => {
    if (!called) {
      called = true;
      fn(arg);
    }
  };
}

/** @param {typeof WebSocket} [WebSocketImpl] defaults to globalThis.WebSocket */
export function browserTransport(WebSocketImpl) {
  return {
    name: "websocket",
    open(url, handlers) {
      const Impl = WebSocketImpl || globalThis.WebSocket;
      const closed = once(handlers.onClose);
      let socket;
      try {
        socket = new Impl(url);
      } catch (error) {
        handlers.onError(error);
        queueMicrotask(() => closed({ code: 1006, reason: String(error && error.message) }));
        return { send() {}, close() {} };
      }
      socket.onopen = () => handlers.onOpen();
      socket.onmessage = (event) => handlers.onMessage(typeof event.data === "string" ? event.data : String(event.data));
      socket.onerror = (event) => handlers.onError(event);
      socket.onclose = (event) => closed({ code: event.code, reason: event.reason });
      return {
        send: (text) => socket.send(text),
        close: (code = 1000, reason = "") => {
          try {
            socket.close(code, reason);
          } catch {
            socket.close();
          }
        },
      };
    },
  };
}

/** @param {any} wx the mini-program's global `wx` */
export function wxTransport(wx) {
  return {
    name: "wx",
    open(url, handlers) {
      const closed = once(handlers.onClose);
      let opened = false;
      const task = wx.connectSocket({
        url,
        // a new socket per call: the base library otherwise limits a page to one (and reuses it)
        multiple: true,
        fail: (res) => {
          handlers.onError(new Error((res && res.errMsg) || "connectSocket failed"));
          closed({ code: 1006, reason: (res && res.errMsg) || "connectSocket failed" });
        },
      });
      if (!task) return { send() {}, close() {} };
      task.onOpen(() => {
        opened = true;
        handlers.onOpen();
      });
      task.onMessage((res) => handlers.onMessage(typeof res.data === "string" ? res.data : String(res.data)));
      task.onError((res) => {
        handlers.onError(new Error((res && res.errMsg) || "socket error"));
        if (!opened) closed({ code: 1006, reason: (res && res.errMsg) || "socket error" });
      });
      task.onClose((res) => closed({ code: (res && res.code) || 1006, reason: (res && res.reason) || "" }));
      return {
        send: (text) => task.send({ data: text, fail: (res) => handlers.onError(new Error(res && res.errMsg)) }),
        close: (code = 1000, reason = "") => task.close({ code, reason }),
      };
    },
  };
}

/** The transport for where the code runs: the mini-program's, else the global WebSocket. */
export function defaultTransport() {
  if (typeof wx !== "undefined" && wx && typeof wx.connectSocket === "function") return wxTransport(wx); // eslint-disable-line no-undef
  if (typeof globalThis.WebSocket === "function") return browserTransport();
  throw new Error("no WebSocket here: pass `transport` (Node 20: nodeTransport() from '@cs-platform/chat-sdk/node')");
}
