/**
 * The embeddable chat widget: one script tag, a launcher button and a chat panel in a Shadow DOM,
 * built on the SDK. See README "Clients" for the embed snippet.
 *
 * Start it with `CSChat.init({url, token, ...})`, or let the script tag do it with `data-ws` and
 * `data-token-url` (a URL of the company's backend that answers `{"token": "..."}` or the bare
 * token for the signed-in visitor) or `data-guest-url` (the platform's `POST /auth/guest`).
 */

import { ChatClient, ChatError, MAX_TEXT_CHARS, textLength } from "../../js/src/index.js";
import { pickLanguage, TEXTS } from "./i18n.js";
import { STYLES } from "./styles.js";

const ICON = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
const OPEN_KEY = "cs-chat:widget-open";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function tokenFromUrl(tokenUrl) {
  return async () => {
    const response = await fetch(tokenUrl, { method: "POST", credentials: "include" });
    if (!response.ok) throw new Error(`token URL answered ${response.status}`);
    const text = await response.text();
    try {
      return JSON.parse(text).token;
    } catch {
      return text.trim();
    }
  };
}

/**
 * A guest token from the platform's `POST /auth/guest`, kept in localStorage and renewed with the
 * current one before it expires, so a visitor keeps their conversation across reloads.
 */
export function guestToken(guestUrl, storageKey = "cs-chat:guest-token") {
  let cached = null;
  try {
    cached = JSON.parse(localStorage.getItem(storageKey) || "null");
  } catch {
    cached = null;
  }
  return async () => {
    const now = Date.now() / 1000;
    if (cached && cached.expires_at - now > 120) return cached.token;
    const headers = { "Content-Type": "application/json" };
    if (cached && cached.token) headers.Authorization = `Bearer ${cached.token}`;
    let response = await fetch(guestUrl, { method: "POST", headers, body: "{}" });
    if (!response.ok && headers.Authorization) {
      delete headers.Authorization; // too old to renew: a new guest
      response = await fetch(guestUrl, { method: "POST", headers, body: "{}" });
    }
    if (!response.ok) throw new Error(`guest token: HTTP ${response.status}`);
    cached = await response.json();
    try {
      localStorage.setItem(storageKey, JSON.stringify(cached));
    } catch {
      // private mode: the token lives as long as the page
    }
    return cached.token;
  };
}

export class ChatWidget {
  /**
   * @param {{url: string, token: string | (() => string | Promise<string>), language?: string,
   *   title?: string, accent?: string, open?: boolean, channel?: string, container?: HTMLElement,
   *   client?: ChatClient}} options
   */
  constructor(options) {
    this.options = options;
    this.lang = pickLanguage(options.language, document.documentElement.lang, navigator.languages);
    this.t = TEXTS[this.lang];
    this.unread = 0;
    this.rendered = new Map();
    this.pendingNodes = new Map();
    this.escalated = false;
    this.client = options.client || new ChatClient({ url: options.url, token: options.token,
      channel: options.channel || "web" });
    this._build();
    this._bind();
    let open = options.open;
    try {
      if (open === undefined) open = sessionStorage.getItem(OPEN_KEY) === "1";
    } catch {
      // storage blocked
    }
    if (open) this.open(false);
    this.client.connect().catch(() => {});
  }

  // -- DOM -------------------------------------------------------------------------------------

  _build() {
    const t = this.t;
    this.host = el("div", { id: "cs-chat-widget", "data-cs-chat": "" });
    this.shadow = this.host.attachShadow({ mode: "open" });
    const accent = this.options.accent || "#1f5eff";
    this.shadow.append(el("style", { text: STYLES + `:host{--accent:${accent};--accent-soft:${accent}22}` }));
    const root = el("div", { class: "root", lang: this.lang });
    this.badge = el("span", { class: "badge", hidden: true, "aria-hidden": "true" });
    this.launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false",
      "aria-controls": "cs-chat-panel" });
    this.launcher.innerHTML = ICON;
    this.launcherText = el("span", { text: t.launcher });
    this.launcherUnread = el("span", { class: "sr-only" });
    this.launcher.append(this.launcherText, this.launcherUnread, this.badge);

    this.subtitle = el("p", { text: t.subtitleBot });
    this.closeButton = el("button", { type: "button", class: "close", "aria-label": t.close, text: "×" });
    const header = el("header", {}, el("div", { class: "titles" },
      el("h2", { id: "cs-chat-title", text: this.options.title || t.title }), this.subtitle), this.closeButton);
    this.banner = el("div", { class: "banner", role: "status", hidden: true });
    this.queueBox = el("div", { class: "queue", role: "status", hidden: true });
    this.older = el("button", { type: "button", class: "older", hidden: true, text: t.loadOlder });
    this.log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": t.messages,
      tabindex: "0" }, this.older);
    this.textarea = el("textarea", { id: "cs-chat-input", rows: "1", placeholder: t.placeholder,
      maxlength: String(MAX_TEXT_CHARS * 2), "aria-describedby": "cs-chat-error" });
    const label = el("label", { for: "cs-chat-input", class: "sr-only", text: t.message });
    this.sendButton = el("button", { type: "submit", class: "send", text: t.send });
    this.humanButton = el("button", { type: "button", class: "human", text: t.human });
    this.errorBox = el("p", { id: "cs-chat-error", class: "error", role: "alert" });
    this.counter = el("span", { class: "counter", hidden: true, "aria-live": "polite" });
    this.form = el("form", { class: "composer", novalidate: true },
      el("div", { class: "row" }, label, this.textarea, this.sendButton), this.counter, this.errorBox, this.humanButton);
    this.panel = el("section", { id: "cs-chat-panel", class: "panel", role: "dialog", "aria-labelledby": "cs-chat-title",
      hidden: true }, header, this.banner, this.queueBox, this.log, this.form);
    root.append(this.panel, this.launcher);
    this.shadow.append(root);
    (this.options.container || document.body).append(this.host);
  }

  _bind() {
    const c = this.client;
    this.launcher.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));
    this.closeButton.addEventListener("click", () => this.close());
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.close();
      }
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this._send();
    });
    this.textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this._send();
      }
    });
    this.textarea.addEventListener("input", () => this._count());
    this.humanButton.addEventListener("click", () => this._requestHuman());
    this.older.addEventListener("click", () => this._loadOlder());
    c.on("message", ({ message }) => this._onMessage(message));
    c.on("delivery", (d) => this._onDelivery(d));
    c.on("state", ({ state }) => this._onState(state));
    c.on("synced", () => {
      this.older.hidden = !c.hasMoreOlder;
      this._onState(c.state);
    });
    c.on("queue", (q) => this._onQueue(q));
    c.on("agent", ({ state, agent }) => this._onAgent(state, agent));
    c.on("survey", (survey) => this._showSurvey(survey));
    c.on("escalation", () => {
      this.escalated = true;
      this._updateHuman();
    });
    c.on("outbox", ({ entries }) => entries.forEach((e) => this._showPending(e.client_msg_id, e.text)));
    c.on("conversation", ({ previous }) => {
      if (previous) {
        this.escalated = false;
        this._updateHuman();
        this.queueBox.hidden = true;
        this.subtitle.textContent = this.t.subtitleBot;
      }
    });
  }

  open(focus = true) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.unread = 0;
    this._updateBadge();
    this._remember(true);
    this._scroll();
    if (focus) this.textarea.focus();
  }

  close() {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this._remember(false);
    this.launcher.focus();
  }

  _remember(open) {
    try {
      sessionStorage.setItem(OPEN_KEY, open ? "1" : "0");
    } catch {
      // storage blocked
    }
  }

  // -- sending ---------------------------------------------------------------------------------

  _count() {
    const n = textLength(this.textarea.value);
    this.counter.hidden = n < MAX_TEXT_CHARS - 400;
    this.counter.textContent = this.t.counter(n, MAX_TEXT_CHARS);
    if (this.errorBox.textContent && n) this.errorBox.textContent = "";
  }

  _send() {
    const text = this.textarea.value;
    let sent;
    try {
      sent = this.client.send(text);
    } catch (error) {
      this._error(error);
      return;
    }
    this.textarea.value = "";
    this._count();
    this.errorBox.textContent = "";
    sent.catch((error) => {
      if (error instanceof ChatError && (error.code === "empty_field" || error.code === "text_too_long")) {
        this.textarea.value = text;
        this._count();
      }
      this._error(error);
    });
  }

  _error(error) {
    const code = error && error.code;
    this.errorBox.textContent = this.t.errors[code] || this.t.errors.default;
  }

  async _requestHuman() {
    this.escalated = true;
    this._updateHuman();
    this.subtitle.textContent = this.t.humanRequested;
    try {
      await this.client.requestHuman({ language: this.lang });
    } catch (error) {
      this.escalated = false;
      this._updateHuman();
      this._error(error);
    }
  }

  _updateHuman() {
    this.humanButton.disabled = this.escalated || Boolean(this.client.agent);
  }

  async _loadOlder() {
    const anchor = this.log.scrollHeight - this.log.scrollTop;
    try {
      await this.client.loadOlder();
    } catch (error) {
      this._error(error);
    }
    this.older.hidden = !this.client.hasMoreOlder;
    this.log.scrollTop = this.log.scrollHeight - anchor;
  }

  // -- rendering -------------------------------------------------------------------------------

  _who(message) {
    const sender = message.sender || {};
    if (sender.type === "customer") return this.t.you;
    if (sender.type === "bot") return this.t.bot;
    if (sender.type === "agent") return sender.name || sender.id;
    return this.t.system;
  }

  _onMessage(message) {
    const pending = message.client_msg_id && this.pendingNodes.get(message.client_msg_id);
    if (pending) {
      pending.remove();
      this.pendingNodes.delete(message.client_msg_id);
    }
    const type = (message.sender && message.sender.type) || "system";
    const meta = message.meta || {};
    const csat = meta.csat && meta.csat.question === "csat";
    const node = el("div", { class: `msg ${type}`, "data-seq": message.seq, "data-message-id": message.message_id,
      hidden: csat }); // the survey form below asks that question, in the page's language
    if (type !== "system" && type !== "customer") node.append(el("span", { class: "who", text: this._who(message) }));
    if (type === "customer") node.append(el("span", { class: "sr-only", text: `${this.t.you}: ` }));
    node.append(el("div", { class: "bubble", text: this._text(message) }));
    const time = this._time(message.ts);
    if (time && type !== "system") node.append(el("time", { class: "time", datetime: message.ts, text: time }));
    const replies = meta.quick_replies;
    if (Array.isArray(replies) && replies.length && !csat && type !== "customer") {
      const group = el("div", { class: "quick", role: "group", "aria-label": this.t.quickReplies });
      for (const reply of replies) {
        group.append(el("button", { type: "button", text: reply.title,
          onclick: () => {
            group.remove();
            this.client.choose(reply).catch((error) => this._error(error));
          } }));
      }
      node.append(group);
    }
    this._insert(node, message);
    this.rendered.set(message.message_id, node);
    if (type !== "customer" && this.panel.hidden && this.client._initialSynced) {
      this.unread++;
      this._updateBadge();
    }
    // quick replies belong to the newest bot message only
    for (const other of this.log.querySelectorAll(".quick")) {
      if (!node.contains(other) && this._isNewest(node)) other.remove();
    }
    this._scroll();
  }

  /** The platform's own notices (agent joined, queue) in the widget's language; everything else as sent. */
  _text(message) {
    const meta = message.meta || {};
    if (this.lang === "en" || (message.sender && message.sender.type) !== "system") return message.text || "";
    if (meta.routing === "assigned" && meta.agent && meta.agent.name) return this.t.agentJoined(meta.agent.name);
    if (meta.queue && typeof meta.queue.position === "number") {
      return this.t.queueNotice(meta.queue.position, Math.max(1, Math.round((meta.queue.estimated_wait_seconds || 0) / 60)));
    }
    return message.text || "";
  }

  _time(ts) {
    const date = ts ? new Date(ts) : null;
    if (!date || Number.isNaN(date.getTime())) return "";
    try {
      return date.toLocaleTimeString(this.lang === "zh" ? "zh-CN" : "en", { hour: "2-digit", minute: "2-digit" });
    } catch {
      return "";
    }
  }

  _isNewest(node) {
    const messages = this.log.querySelectorAll(".msg:not(.pending)");
    return messages[messages.length - 1] === node;
  }

  /** Put a message where its order says (the SDK keeps the order; the DOM follows it). */
  _insert(node, message) {
    const list = this.client.messages;
    const index = list.findIndex((m) => m.message_id === message.message_id);
    let before = null;
    for (let i = index + 1; i < list.length && !before; i++) before = this.rendered.get(list[i].message_id) || null;
    const firstPending = this.log.querySelector(".msg.pending");
    const anchor = before || firstPending || this.surveyNode || null;
    this.log.insertBefore(node, anchor && anchor.parentNode === this.log ? anchor : null);
  }

  _showPending(clientMsgId, text) {
    if (this.pendingNodes.has(clientMsgId)) return;
    const state = el("span", { class: "state", text: this.t.sending });
    const node = el("div", { class: "msg customer pending", "data-client-msg-id": clientMsgId },
      el("span", { class: "sr-only", text: `${this.t.you}: ` }), el("div", { class: "bubble", text }), state);
    this.pendingNodes.set(clientMsgId, node);
    this.log.insertBefore(node, this.surveyNode && this.surveyNode.parentNode === this.log ? this.surveyNode : null);
    this._scroll();
  }

  _onDelivery(d) {
    if (d.state === "pending") this._showPending(d.client_msg_id, d.text);
    else if (d.state === "failed") {
      const node = this.pendingNodes.get(d.client_msg_id);
      if (node) {
        const state = node.querySelector(".state");
        state.className = "state failed";
        state.textContent = `${this.t.notSent}: ${this.t.errors[d.error && d.error.code] || this.t.errors.default}`;
      }
    }
  }

  _onState(state) {
    const t = this.t;
    const text = state === "reconnecting" ? t.reconnecting : state === "offline" && this.client._wanted ? t.offline
      : state === "connecting" ? t.connecting : "";
    this.banner.textContent = text;
    this.banner.hidden = !text;
  }

  _onQueue(queue) {
    if (this.client.agent) return;
    const minutes = Math.max(1, Math.round((queue.estimated_wait_seconds || 0) / 60));
    this.queueBox.textContent = this.t.queue(queue.position, minutes);
    this.queueBox.hidden = false;
    this.subtitle.textContent = this.t.subtitleQueue;
    this.escalated = true;
    this._updateHuman();
  }

  _onAgent(state, agent) {
    if (state === "joined") {
      this.queueBox.hidden = true;
      this.subtitle.textContent = this.t.subtitleAgent(agent.name);
    } else {
      this.subtitle.textContent = this.t.subtitleBot;
      this.escalated = false;
    }
    this._updateHuman();
  }

  _showSurvey(survey) {
    if (survey.question !== "csat" || this.surveyFor === survey.conversation_id) return;
    this.surveyFor = survey.conversation_id;
    if (this.surveyNode) this.surveyNode.remove();
    const t = this.t;
    let score = 0;
    let nps;
    const starLabels = [];
    const stars = el("div", { class: "stars" });
    for (let n = 1; n <= 5; n++) {
      const input = el("input", { type: "radio", name: "cs-chat-stars", value: String(n), "aria-label": t.stars(n) });
      const label = el("label", { title: t.stars(n) }, input, el("span", { "aria-hidden": "true", text: "★" }));
      input.addEventListener("change", () => {
        score = n;
        starLabels.forEach((l, i) => l.classList.toggle("on", i < n));
        hint.textContent = "";
      });
      starLabels.push(label);
      stars.append(label);
    }
    const npsLabels = [];
    const scale = el("div", { class: "scale" });
    for (let n = 0; n <= 10; n++) {
      const input = el("input", { type: "radio", name: "cs-chat-nps", value: String(n) });
      const label = el("label", {}, input, el("span", { text: String(n) }));
      input.addEventListener("change", () => {
        nps = n;
        npsLabels.forEach((l, i) => l.classList.toggle("on", i === n));
      });
      npsLabels.push(label);
      scale.append(label);
    }
    const comment = el("textarea", { id: "cs-chat-comment", maxlength: "2000" });
    const hint = el("p", { class: "hint", role: "alert" });
    const submit = el("button", { type: "submit", class: "submit", text: t.submitRating });
    const form = el("form", { class: "survey", "aria-label": t.surveyTitle },
      el("fieldset", { role: "radiogroup", "aria-label": t.ratingGroup }, el("legend", { text: t.surveyTitle }), stars),
      el("fieldset", { class: "nps" }, el("legend", { text: t.npsTitle }), scale,
        el("div", { class: "ends", "aria-hidden": "true" }, el("span", { text: t.npsLow }), el("span", { text: t.npsHigh }))),
      el("label", { for: "cs-chat-comment", class: "field-label", text: t.comment }), comment, submit, hint);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!score) {
        hint.textContent = t.pickStars;
        return;
      }
      submit.disabled = true;
      try {
        await this.client.rate(score, comment.value.trim() || undefined, { nps, conversationId: survey.conversation_id });
        form.replaceChildren(el("p", { class: "done", role: "status", text: t.thanks }));
      } catch (error) {
        submit.disabled = false;
        hint.textContent = t.errors[error && error.code] || t.errors.default;
      }
    });
    this.surveyNode = form;
    this.log.append(form);
    this._scroll();
  }

  _updateBadge() {
    this.badge.hidden = this.unread === 0;
    this.badge.textContent = String(this.unread);
    this.launcherUnread.textContent = this.unread ? ` (${this.t.unread(this.unread)})` : "";
  }

  _scroll() {
    if (!this.panel.hidden) this.log.scrollTop = this.log.scrollHeight;
  }
}

/**
 * Start the widget. Options: `url` (the WebSocket URL, required), `token` (string or function), or
 * `tokenUrl` / `guestUrl` instead of `token`; `language` (`en`, `zh`), `title`, `accent`, `open`.
 */
export function init(options) {
  const token = options.token || (options.tokenUrl && tokenFromUrl(options.tokenUrl))
    || (options.guestUrl && guestToken(options.guestUrl));
  if (!options.url || !token) throw new Error("CSChat.init({url, token | tokenUrl | guestUrl})");
  if (window.CSChat && window.CSChat.widget) return window.CSChat.widget;
  const widget = new ChatWidget({ ...options, token });
  window.CSChat.widget = widget;
  return widget;
}

const api = { init, ChatWidget, guestToken, widget: null };
window.CSChat = Object.assign(window.CSChat || {}, api);

const script = document.currentScript;
if (script && script.dataset && script.dataset.ws && (script.dataset.tokenUrl || script.dataset.guestUrl)) {
  const start = () => init({ url: script.dataset.ws, tokenUrl: script.dataset.tokenUrl, guestUrl: script.dataset.guestUrl,
    language: script.dataset.language, title: script.dataset.title, accent: script.dataset.accent });
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
}
