// The agent's WebSocket: connect with a fresh token each time, reconnect with exponential backoff and
// jitter, keep alive below API Gateway's 10-minute idle close, reconnect before its 2-hour limit.
// Interface (what the customer SDK's socket can replace): new AgentSocket({url, token}), .connect(),
// .send(frame) -> boolean, .close(); events "frame" (detail: the frame), "state" (detail: connecting |
// open | reconnecting | offline) and "open" (after every (re)connect: the caller resyncs).

const PING_MS = 5 * 60_000;
const PLANNED_RECONNECT_MS = 110 * 60_000;

export class AgentSocket extends EventTarget {
  constructor({ url, token }) {
    super();
    this.url = url;
    this.tokenSource = token;
    this.attempt = 0;
    this.ws = null;
    this.closed = false;
    this.state = "offline";
  }

  _setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  async connect() {
    this.closed = false;
    this._setState(this.attempt ? "reconnecting" : "connecting");
    let token;
    try { token = await this.tokenSource(); } catch { this._setState("offline"); return; }
    const sep = this.url.includes("?") ? "&" : "?";
    const ws = new WebSocket(`${this.url}${sep}token=${encodeURIComponent(token)}&as=agent`);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this._setState("open");
      clearInterval(this._ping);
      this._ping = setInterval(() => this.send({ action: "ping" }), PING_MS);
      clearTimeout(this._planned);
      this._planned = setTimeout(() => ws.close(4000, "planned reconnect"), PLANNED_RECONNECT_MS);
      this.dispatchEvent(new Event("open"));
    };
    ws.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
    };
    ws.onclose = () => {
      clearInterval(this._ping);
      clearTimeout(this._planned);
      if (this.ws !== ws || this.closed) return;
      this.attempt += 1;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(this.attempt, 6)) * (0.5 + Math.random() / 2);
      this._setState("reconnecting");
      this._retry = setTimeout(() => this.connect(), delay);
    };
  }

  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  close() {
    this.closed = true;
    clearTimeout(this._retry);
    clearInterval(this._ping);
    clearTimeout(this._planned);
    if (this.ws) this.ws.close(1000, "signed out");
    this.ws = null;
    this._setState("offline");
  }
}
