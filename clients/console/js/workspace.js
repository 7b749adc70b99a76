// The agent workspace: status, offers, my conversations, the transcript, the customer panel and the
// reply box (canned responses with "/", AI suggestions, private notes), transfer, resolve, reopen, ticket.
import { ApiError } from "./api.js";
import { clear, field, h, when } from "./dom.js";
import { t } from "./i18n.js";
import { AgentSocket } from "./socket.js";

export async function mount(root, { api, session, config, showBanner, refused }) {
  const state = {
    status: "offline", offers: new Map(), conversations: new Map(), selected: null, canned: [],
    suggestions: null, note: false, agents: [], teams: [],
  };
  const baseTitle = t("brand");
  let ticking = null;

  // -- layout ------------------------------------------------------------------------------------
  const statusBox = h("div", { class: "status", role: "group", "aria-label": t("statusLabel") });
  const offersBox = h("div", { "aria-live": "polite" });
  const convList = h("ul", { class: "list", "aria-label": t("myConversations") });
  const actions = h("div", { class: "actions", role: "toolbar", "aria-label": t("workspace") });
  const transcript = h("div", { class: "transcript", role: "log", "aria-label": "Transcript", "aria-live": "polite" });
  const composer = h("div", { class: "composer" });
  const panel = h("div", { class: "panel" });
  clear(root, h("div", { class: "desk" },
    h("section", { class: "pane", "aria-label": t("myConversations") },
      h("h2", {}, t("status")), statusBox, h("h2", {}, t("offers")), offersBox,
      h("h2", {}, t("myConversations")), convList),
    h("section", { class: "pane", "aria-label": "Conversation" }, actions, transcript, composer),
    h("aside", { class: "pane", "aria-label": t("customer") }, h("h2", {}, t("customer")), panel)));

  // -- socket (the SDK's connection machinery; replies and notes go through its outbox) ---------------
  const me = session.principal || {};
  let myName = me.id; // the agent's registered name once the work frame has it
  const socket = new AgentSocket({ url: config.ws, token: () => session.token(), agentId: me.id || "agent" });
  socket.addEventListener("state", (e) => showBanner(["reconnecting", "offline"].includes(e.detail) && socket.opens
    ? t("reconnecting") : ""));
  let resyncing = false;
  socket.addEventListener("open", (e) => {
    resyncing = true; // a status asked for meanwhile is sent after the work frame (frames may be handled in parallel)
    socket.send({ action: "work" });
    // after a reconnect every open conversation is fetched again (what arrived while the socket was down)
    const resync = e.detail.reconnect ? [...state.conversations.values()].filter((c) => c.status !== "closed")
      .map((c) => c.id) : [state.selected].filter(Boolean);
    for (const cid of resync) loadContext(cid);
  });
  socket.addEventListener("frame", (e) => onFrame(e.detail));
  socket.addEventListener("delivery", (e) => onDelivery(e.detail));

  function onDelivery({ entry, state: delivery, message, error }) {
    const conv = ensure(entry.conversation_id);
    if (delivery === "sent") {
      // the ack names the stored message; what the server sent in full (a resync, a message frame) wins
      const stored = conv.messages.get(message.message_id);
      conv.messages.set(message.message_id, { ...message, sender: { type: "agent", id: me.id, name: myName },
        ...(stored || {}) });
    } else if (delivery === "failed") {
      conv.failed = [...(conv.failed || []), { ...entry, error }];
    }
    if (entry.conversation_id === state.selected) drawTranscript();
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "work": {
        state.status = (frame.agent && frame.agent.status) || state.status;
        if (frame.agent && frame.agent.name) myName = frame.agent.name; // as the server signs my stored replies
        resyncing = false;
        // the server sets an agent offline when their last socket closes: after a reconnect the status
        // this agent chose in this tab is asked for again (a choice of "offline" stays offline)
        if (!pendingStatus && chosenStatus && chosenStatus !== state.status) pendingStatus = chosenStatus;
        if (pendingStatus && socket.send({ action: "setStatus", status: pendingStatus })) pendingStatus = null;
        state.offers = new Map(frame.offers.map((o) => [o.conversation_id, o]));
        for (const item of frame.assigned) ensure(item.conversation_id, item);
        break;
      }
      case "status": state.status = frame.status; break;
      case "offer":
        state.offers.set(frame.conversation_id, frame);
        announce();
        break;
      case "offer_revoked": state.offers.delete(frame.conversation_id); break;
      case "message": onMessage(frame.message); return;
      case "delivery": {
        const conv = state.conversations.get(frame.conversation_id);
        const msg = conv && conv.messages.get(frame.message_id);
        if (msg) { msg.delivery = frame.delivery || { state: frame.state, error: frame.error }; }
        if (frame.conversation_id === state.selected) drawTranscript();
        return;
      }
      case "suggestions":
        if (frame.conversation_id === state.selected) { state.suggestions = frame.suggestions; drawComposer(); }
        return;
      case "sla_breach": case "sla_reminder": showBanner(`SLA: ${frame.subject || frame.ticket_id}`); return;
      case "error":
        if (frame.code === "agent_not_registered" || frame.code === "token_invalid") refused(new ApiError(403, frame));
        else showBanner(t("error", frame.message));
        return;
      default: return;
    }
    drawSide();
  }

  function ensure(cid, extra = {}) {
    let conv = state.conversations.get(cid);
    if (!conv) {
      conv = { id: cid, customer: extra.customer_id || "", channel: extra.channel || "", unread: 0, messages: new Map(),
        context: null, status: "open" };
      state.conversations.set(cid, conv);
    }
    return conv;
  }

  function onMessage(message) {
    const conv = ensure(message.conversation_id);
    const known = conv.messages.has(message.message_id);
    conv.messages.set(message.message_id, { ...(conv.messages.get(message.message_id) || {}), ...message });
    if (!known && message.sender && message.sender.type === "customer" && message.conversation_id !== state.selected) {
      conv.unread += 1;
      announce(false);
    }
    if (message.conversation_id === state.selected) drawTranscript();
    drawSide();
  }

  // -- offers: countdown, sound, title badge ---------------------------------------------------------
  function announce(sound = true) {
    const waiting = state.offers.size + [...state.conversations.values()].reduce((n, c) => n + c.unread, 0);
    document.title = waiting ? `(${waiting}) ${baseTitle}` : baseTitle;
    if (!sound) return;
    try {
      const audio = new (window.AudioContext || window.webkitAudioContext)();
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.4);
    } catch { /* no audio device: the title badge still tells */ }
  }

  async function act(fn) {
    try { return await fn(); } catch (exc) {
      if (!refused(exc)) showBanner(t("error", exc.message));
      return null;
    }
  }

  async function accept(cid) {
    const context = await act(() => api.post(`/agent/conversations/${encodeURIComponent(cid)}/accept`));
    state.offers.delete(cid);
    if (context) { applyContext(context); select(cid); }
    drawSide();
    announce(false);
  }

  async function decline(cid) {
    await act(() => api.post(`/agent/conversations/${encodeURIComponent(cid)}/decline`));
    state.offers.delete(cid);
    drawSide();
    announce(false);
  }

  // -- side: status, offers, conversation list -------------------------------------------------------
  // Each part is rebuilt only when what it shows changed: a button replaced between a person's
  // mouse-down and mouse-up would swallow the click. The countdown ticks in place.
  const drawn = { status: null, offers: null, list: null };
  function drawSide() {
    const labels = { online: t("online"), away: t("away"), offline: t("offline") };
    const offerKey = [...state.offers.keys()].join(",");
    const listKey = JSON.stringify([...state.conversations.values()].map((c) => [c.id, c.customerName, c.customer,
      c.channel, c.status, c.unread, c.id === state.selected]));
    tickCountdowns();
    if (drawn.status !== state.status) {
      drawn.status = state.status;
      drawStatus(labels);
    }
    if (drawn.offers !== offerKey) { drawn.offers = offerKey; drawOffers(); }
    if (drawn.list !== listKey) { drawn.list = listKey; drawList(); }
  }

  function tickCountdowns() {
    for (const el of offersBox.querySelectorAll(".countdown")) {
      const offer = state.offers.get(el.dataset.cid);
      if (offer) el.textContent = t("expiresIn", Math.max(0, Math.round(((offer.expires_ms || 0) - Date.now()) / 1000)));
    }
  }

  function drawStatus(labels) {
    clear(statusBox, h("span", { class: `dot ${state.status}`, "aria-hidden": "true" }),
      h("strong", {}, labels[state.status] || state.status),
      state.status !== "online" ? h("button", { type: "button", class: "primary", onclick: () => setStatus("online") },
        t("goOnline")) : null,
      state.status !== "away" ? h("button", { type: "button", onclick: () => setStatus("away") }, t("goAway")) : null,
      state.status !== "offline" ? h("button", { type: "button", onclick: () => setStatus("offline") }, t("goOffline")) : null);
  }

  function drawOffers() {
    clear(offersBox, state.offers.size ? [...state.offers.values()].map((offer) => {
      const left = Math.max(0, Math.round(((offer.expires_ms || 0) - Date.now()) / 1000));
      const who = (offer.customer && (offer.customer.name || offer.customer.customer_id)) || offer.customer_id || "";
      return h("div", { class: "offer", role: "region", "aria-label": t("newOffer") },
        h("strong", {}, t("offerFrom", who)),
        h("div", { class: "meta" }, offer.channel ? h("span", { class: "chip" }, offer.channel) : null,
          offer.language ? h("span", { class: "chip" }, offer.language) : null,
          offer.reason ? h("span", {}, offer.reason) : null,
          h("span", { class: "countdown", dataset: { cid: offer.conversation_id } }, t("expiresIn", left))),
        h("div", { class: "row" },
          h("button", { type: "button", class: "primary", onclick: () => accept(offer.conversation_id) }, t("accept")),
          h("button", { type: "button", onclick: () => decline(offer.conversation_id) }, t("decline"))));
    }) : h("p", { class: "empty" }, t("noOffers")));
  }

  function drawList() {
    const convs = [...state.conversations.values()];
    clear(convList, convs.length ? convs.map((c) => h("li", {}, h("button", {
      type: "button", "aria-current": c.id === state.selected ? "true" : "false", onclick: () => select(c.id) },
    h("span", {}, c.customerName || c.customer || c.id, " ", c.channel ? h("span", { class: "chip" }, c.channel) : null,
      c.status === "closed" ? h("span", { class: "chip" }, t("closed")) : null),
    c.unread ? h("span", { class: "badge", "aria-label": t("unread", c.unread) }, c.unread) : null)))
      : h("li", { class: "empty" }, t("noConversations")));
  }

  // Sent on the socket (offers arrive there); asked before it is open, it is sent once it opens.
  let pendingStatus = null;
  let chosenStatus = null; // what the agent last chose here, restored after a reconnect (memory only)
  function setStatus(status) {
    chosenStatus = status;
    if (resyncing || !socket.send({ action: "setStatus", status })) pendingStatus = status;
  }

  // -- the selected conversation --------------------------------------------------------------------
  function applyContext(context) {
    const conv = ensure(context.conversation_id);
    conv.context = context;
    conv.customer = context.customer.customer_id;
    conv.customerName = context.customer.name;
    conv.channel = context.conversation.channel;
    conv.status = context.conversation.status;
    for (const m of context.transcript) {
      conv.messages.set(m.message_id, m);
      socket.settle(m); // stored, but its ack was lost with a socket: no need to send it again
    }
  }

  async function loadContext(cid) {
    const context = await act(() => api.get(`/agent/conversations/${encodeURIComponent(cid)}`));
    if (context) { applyContext(context); if (cid === state.selected) drawMain(); drawSide(); }
  }

  async function select(cid) {
    state.selected = cid;
    state.suggestions = null;
    const conv = ensure(cid);
    conv.unread = 0;
    announce(false);
    drawSide();
    drawMain();
    await loadContext(cid);
    socket.send({ action: "assist", conversation_id: cid });
  }

  function drawMain() {
    drawActions();
    drawTranscript();
    drawComposer();
    drawPanel();
  }

  function drawActions() {
    const conv = state.conversations.get(state.selected);
    if (!conv) { clear(actions); return; }
    const cid = conv.id;
    const path = (verb) => `/agent/conversations/${encodeURIComponent(cid)}/${verb}`;
    clear(actions, h("strong", { class: "grow" }, conv.customerName || conv.customer || cid),
      conv.status !== "closed" ? [
        h("button", { type: "button", onclick: () => transferDialog(cid) }, t("transfer")),
        h("button", { type: "button", onclick: () => ticketDialog(cid) }, t("createTicket")),
        h("button", { type: "button", class: "primary", onclick: async () => {
          if (await act(() => api.post(path("resolve"), {}))) { conv.status = "closed"; drawMain(); drawSide(); showBanner(""); }
        } }, t("resolve")),
      ] : h("button", { type: "button", onclick: async () => {
        if (await act(() => api.post(path("reopen"), {}))) { conv.status = "open"; loadContext(cid); }
      } }, t("reopen")));
  }

  function drawTranscript() {
    const conv = state.conversations.get(state.selected);
    if (!conv) { clear(transcript, h("p", { class: "empty" }, t("selectConversation"))); return; }
    const messages = [...conv.messages.values()].sort((a, b) => (a.seq || 0) - (b.seq || 0));
    // written but not acknowledged yet (the outbox), or refused: after the stored ones, marked as such
    const unsent = [...socket.pending(conv.id).map((e) => ({ ...e, delivery: { state: "pending" } })),
      ...(conv.failed || []).map((e) => ({ ...e, delivery: { state: "failed", error: e.error && e.error.message } }))]
      .map((e) => ({ message_id: e.client_msg_id, text: e.text, visibility: e.action === "note" ? "internal" : "public",
        sender: { type: "agent", name: myName }, ts: new Date(e.created_at).toISOString(), delivery: e.delivery }));
    clear(transcript, [...messages, ...unsent].map((m) => {
      const kind = m.visibility === "internal" ? "internal" : (m.sender && m.sender.type) || "system";
      const meta = m.meta || {};
      const delivery = m.delivery && m.delivery.state;
      return h("div", { class: `msg ${kind}`, dataset: { seq: m.seq } },
        kind === "internal" ? h("div", { class: "meta note-tag" }, t("internal")) : null,
        m.text || (m.kind && m.kind !== "text" ? `[${m.kind}]` : ""),
        h("div", { class: "meta" },
          h("span", {}, (m.sender && (m.sender.name || m.sender.type)) || ""),
          h("span", {}, when(m.ts)),
          kind === "bot" && meta.intent ? h("span", {}, t("intent", meta.intent)) : null,
          kind === "bot" && meta.confidence !== undefined ? h("span", {}, t("confidence", Number(meta.confidence).toFixed(2))) : null,
          delivery ? h("span", { class: ["refused", "failed"].includes(delivery) ? "bad" : "" },
            t(`delivery.${delivery}`) + (m.delivery.error ? `: ${m.delivery.error}` : "")) : null));
    }));
    transcript.scrollTop = transcript.scrollHeight;
  }

  function drawComposer() {
    const conv = state.conversations.get(state.selected);
    if (!conv || conv.status === "closed") { clear(composer); composer.className = "composer"; return; }
    composer.className = state.note ? "composer note" : "composer";
    // a redraw (suggestions arriving, a new message) keeps what the agent is typing
    const previous = composer.querySelector("textarea");
    const draft = previous && previous.dataset.conversation === conv.id ? previous.value : "";
    const box = h("textarea", { "aria-describedby": "composer-hint", id: "reply-box" });
    box.dataset.conversation = conv.id;
    box.value = draft;
    const cannedList = h("div", { class: "canned", role: "listbox", "aria-label": t("canned") });
    const status = h("span", { class: "hint", role: "status" });
    const noteToggle = h("input", { type: "checkbox", checked: state.note || null });
    noteToggle.addEventListener("change", () => { state.note = noteToggle.checked; const v = box.value; drawComposer();
      composer.querySelector("textarea").value = v; });
    box.addEventListener("input", () => {
      const query = box.value.startsWith("/") ? box.value.slice(1).toLowerCase() : null;
      clear(cannedList, query === null ? [] : state.canned
        .filter((c) => c.canned_id.toLowerCase().includes(query) || (c.title || "").toLowerCase().includes(query))
        .slice(0, 6).map((c) => h("button", { type: "button", role: "option", onclick: () => { box.value = c.text; clear(cannedList); box.focus(); } },
          `/${c.canned_id} — ${c.title}`)));
    });
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(); }
      if (event.key === "Tab" && cannedList.firstChild && box.value.startsWith("/")) { event.preventDefault(); cannedList.firstChild.click(); }
    });
    function send() {
      const text = box.value.trim();
      if (!text) return;
      // into the outbox: sent now if the socket is open, else after the reconnect; shown as pending till acked
      socket.reply({ conversation_id: conv.id, text, note: state.note });
      box.value = "";
      drawTranscript();
      box.focus();
    }
    // the best suggestion always, the others only when they are plausible
    const suggestions = (state.suggestions || []).filter((s, i) => i === 0 || Number(s.score) >= 0.2);
    clear(composer,
      suggestions && suggestions.length ? h("div", { class: "suggestions", role: "group", "aria-label": t("suggestions") },
        h("span", { class: "hint" }, t("suggestions")),
        suggestions.map((s) => h("button", { type: "button", "aria-label": `${t("insert")}: ${s.text}`,
          onclick: () => { box.value = s.text; box.focus(); } }, `${s.text} (${s.intent}, ${Number(s.score).toFixed(2)})`)))
        : null,
      cannedList,
      h("label", {}, h("span", {}, state.note ? t("noteBox") : t("reply")), box),
      h("div", { class: "row" },
        h("label", { class: "row" }, noteToggle, h("span", {}, t("privateNote"))),
        h("span", { class: "hint grow", id: "composer-hint" }, state.note ? t("noteHint") : t("cannedHint")), status,
        h("button", { type: "button", onclick: () => socket.send({ action: "assist", conversation_id: conv.id }) }, t("suggest")),
        h("button", { type: "button", class: "primary", onclick: send }, t("send"))));
  }

  function drawPanel() {
    const conv = state.conversations.get(state.selected);
    const context = conv && conv.context;
    if (!context) { clear(panel, h("p", { class: "empty" }, conv ? t("loading") : t("selectConversation"))); return; }
    const c = context.customer || {};
    clear(panel,
      h("dl", {}, h("dt", {}, t("name")), h("dd", {}, c.name || "—"), h("dt", {}, t("id")), h("dd", {}, c.customer_id),
        h("dt", {}, t("channel")), h("dd", {}, context.conversation.channel || "—"),
        c.vip ? [h("dt", {}, "VIP"), h("dd", {}, "★")] : null),
      h("h3", {}, t("identities")),
      context.identities.length ? h("ul", {}, context.identities.map((i) => h("li", {}, `${i.channel}: ${i.external_id || ""}`)))
        : h("p", { class: "empty" }, t("none")),
      h("h3", {}, t("pastConversations")),
      context.past_conversations.length ? h("ul", {}, context.past_conversations.map((p) =>
        h("li", {}, `${when(p.created_ms || p.created_at)} · ${p.status} · ${p.channel || ""}`)))
        : h("p", { class: "empty" }, t("none")),
      h("h3", {}, t("openTickets")), conv.tickets && conv.tickets.length ? h("ul", {}, conv.tickets.map((tk) =>
        h("li", {}, h("a", { href: `#/tickets/${encodeURIComponent(tk.ticket_id)}` }, `${tk.subject} (${tk.status})`))))
        : h("p", { class: "empty" }, t("none")));
    if (!conv.tickets) {
      conv.tickets = [];
      Promise.all(["new", "open", "pending"].map((s) => api.get(`/tickets?status=${s}`).catch(() => [])))
        .then((lists) => { conv.tickets = lists.flat().filter((tk) => tk.customer_id === c.customer_id); drawPanel(); });
    }
  }

  // -- dialogs ---------------------------------------------------------------------------------------
  function dialog(title, body, submitLabel, onSubmit) {
    const error = h("p", { class: "error", role: "alert" });
    const form = h("form", { method: "dialog" }, h("h2", {}, title), body, error,
      h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, submitLabel),
        h("button", { type: "button", onclick: () => dlg.close() }, t("cancel"))));
    const dlg = h("dialog", { "aria-label": title }, form);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try { await onSubmit(); dlg.close(); } catch (exc) { error.textContent = t("error", exc.message); }
    });
    dlg.addEventListener("close", () => dlg.remove());
    document.body.append(dlg);
    dlg.showModal();
    return dlg;
  }

  function transferDialog(cid) {
    const agent = h("input", { list: "agent-ids" });
    const team = h("input", {});
    const note = h("textarea", {});
    dialog(t("transferTo"), [field(t("toAgent"), agent), field(t("toTeam"), team), field(t("note"), note)],
      t("transfer"), async () => {
        const body = { note: note.value.trim() || undefined };
        if (agent.value.trim()) body.to_agent = agent.value.trim(); else body.to_team = team.value.trim();
        await api.post(`/agent/conversations/${encodeURIComponent(cid)}/transfer`, body);
        const conv = state.conversations.get(cid);
        state.conversations.delete(cid);
        if (state.selected === cid) state.selected = null;
        showBanner("");
        drawSide();
        drawMain();
        return conv;
      });
  }

  function ticketDialog(cid) {
    const subject = h("input", { required: true });
    const priority = h("select", {}, ["low", "normal", "high", "urgent"].map((p) => h("option", { value: p, selected: p === "normal" || null }, p)));
    dialog(t("createTicket"), [field(t("subject"), subject), field(t("priority"), priority)], t("create"), async () => {
      const ticket = await api.post(`/agent/conversations/${encodeURIComponent(cid)}/ticket`,
        { subject: subject.value.trim(), priority: priority.value });
      const conv = state.conversations.get(cid);
      if (conv) { conv.tickets = null; drawPanel(); }
      showBanner("");
      return ticket;
    });
  }

  // -- start -----------------------------------------------------------------------------------------
  drawSide();
  drawMain();
  try {
    const work = await api.get("/agent/work");
    onFrame({ type: "work", ...work });
    state.canned = await api.get("/agent/canned").catch(() => []);
  } catch (exc) {
    if (refused(exc)) return { stop() {} };
    showBanner(t("error", exc.message));
  }
  socket.connect();
  ticking = setInterval(() => {
    if (state.offers.size) {
      for (const [cid, offer] of state.offers) if (offer.expires_ms && offer.expires_ms < Date.now() - 2000) state.offers.delete(cid);
      drawSide();
    }
  }, 1000);
  return {
    stop() { clearInterval(ticking); socket.close(); document.title = baseTitle; showBanner(""); },
  };
}
