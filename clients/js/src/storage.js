/**
 * Key-value storage the outbox persists to: `{getItem, setItem, removeItem}` with string values.
 *
 * - `browserStorage()`: `localStorage` (survives a reload); falls back to memory where it is blocked
 *   (Safari private mode, sandboxed iframes).
 * - `wxStorage(wx)`: the mini-program's `wx.getStorageSync` / `setStorageSync` (survives an app restart).
 * - `memoryStorage()`: for Node servers and tests.
 */

export function memoryStorage() {
  const data = new Map();
  return {
    getItem: (key) => (data.has(key) ? data.get(key) : null),
    setItem: (key, value) => void data.set(key, String(value)),
    removeItem: (key) => void data.delete(key),
  };
}

/** @param {Storage} [local] defaults to globalThis.localStorage */
export function browserStorage(local) {
  try {
    const store = local || globalThis.localStorage;
    const probe = "__cs_chat_probe__";
    store.setItem(probe, "1");
    store.removeItem(probe);
    return {
      getItem: (key) => store.getItem(key),
      setItem: (key, value) => {
        try {
          store.setItem(key, value);
        } catch {
          // quota exceeded: the entries stay in memory until the next successful write
        }
      },
      removeItem: (key) => store.removeItem(key),
    };
  } catch {
    return memoryStorage();
  }
}

/** @param {{getStorageSync: Function, setStorageSync: Function, removeStorageSync: Function}} wx */
export function wxStorage(wx) {
  return {
    getItem: (key) => {
      try {
        const value = wx.getStorageSync(key);
        return value === "" || value === undefined || value === null ? null : String(value);
      } catch {
        return null;
      }
    },
    setItem: (key, value) => {
      try {
        wx.setStorageSync(key, value);
      } catch {
        // storage full (10 MB per mini-program): kept in memory until the next write
      }
    },
    removeItem: (key) => {
      try {
        wx.removeStorageSync(key);
      } catch {
        // nothing to remove
      }
    },
  };
}

/** The best storage for where the code runs: wx, then localStorage, then memory. */
export function defaultStorage() {
  if (typeof wx !== "undefined" && wx && typeof wx.getStorageSync === "function") return wxStorage(wx); // eslint-disable-line no-undef
  if (typeof globalThis.localStorage !== "undefined") return browserStorage();
  return memoryStorage();
}
