// Admin: agents, teams, business hours, canned responses, SLA policies (admins) and the knowledge base
// (supervisors and admins): intents with examples and answers in both languages, CSV import, training
// status and the live model version. #/admin/<tab>.
import { clear, field, h, when } from "./dom.js";
import { t } from "./i18n.js";

const TABS = [
  { id: "kb", label: "kb", roles: ["supervisor", "admin"] },
  { id: "agents", label: "agents", roles: ["admin"] },
  { id: "teams", label: "teams", roles: ["admin"] },
  { id: "hours", label: "hours", roles: ["admin"] },
  { id: "canned", label: "canned", roles: ["admin"] },
  { id: "sla", label: "sla", roles: ["admin"] },
];
const lines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);
const words = (text) => text.split(/[,\s]+/).map((s) => s.trim()).filter(Boolean);

export async function mount(root, { api, session, refused }) {
  const role = session.principal.role;
  const tabs = TABS.filter((tab) => tab.roles.includes(role));
  const tabBar = h("div", { class: "tabs", role: "tablist", "aria-label": t("admin") });
  const body = h("div", { role: "tabpanel" });
  const status = h("p", { role: "status", class: "ok" });
  clear(root, h("h1", {}, t("admin")), tabBar, status, body);
  let timer = null;
  // A tab renders only while it is the one shown: a slow answer for the tab the admin left must not
  // replace the tab they went to.
  let showing = null;
  function render(view, ...nodes) {
    if (showing === view) clear(body, ...nodes);
  }

  async function guard(fn) {
    try { return await fn(); } catch (exc) {
      if (!refused(exc)) { status.className = "error"; status.textContent = t("error", exc.message); }
      return null;
    }
  }
  const done = (text = t("saved")) => { status.className = "ok"; status.textContent = text; };

  function form(label, controls, submit, onSubmit) {
    const el = h("form", { class: "stack", "aria-label": label }, controls,
      h("div", {}, h("button", { type: "submit", class: "primary" }, submit)));
    el.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (await guard(onSubmit) !== null) done();
    });
    return el;
  }

  function table(headers, rows) {
    return h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))));
  }

  // -- knowledge base -----------------------------------------------------------------------------
  async function kb(editing = null) {
    const data = await guard(() => api.get("/kb"));
    if (data) drawKb(data, editing);
  }

  // Drawn from the data already loaded, so "Edit" shows its form at once (no refetch to wait for).
  function drawKb(data, editing) {
    const model = data.model;
    const training = h("p", { role: "status", class: "hint", "aria-label": t("training") },
      t("kbVersion", data.version), " · ",
      model ? t("liveModel", model.version) : t("noModel"),
      model && model.version < data.version ? [" · ", t("trainingPending", data.version)] : null);
    const current = editing ? data.intents.find((i) => i.name === editing) : null;
    const name = h("input", { value: editing || "", required: true, pattern: "[A-Za-z0-9_.\\-]+" });
    const examples = h("textarea", { rows: 5 }, current ? current.examples.join("\n") : "");
    const answerEn = h("textarea", { rows: 3 }, current ? current.answers.en || "" : "");
    const answerZh = h("textarea", { rows: 3 }, current ? current.answers.zh || "" : "");
    // -- issue 14: the intent's action (README "Bot actions"), validated by the server on save
    const action = h("textarea", { rows: 6, spellcheck: "false" },
      current && current.action ? JSON.stringify(current.action, null, 2) : "");
    const intentForm = form(t("edit"), [field(t("intentName"), name), field(t("examples"), examples),
      field(t("answerEn"), answerEn), field(t("answerZh"), answerZh), field(t("actionJson"), action)], t("save"), async () => {
      let bound = null;
      if (action.value.trim()) {
        try { bound = JSON.parse(action.value); } catch { throw new Error(t("actionNotJson")); }
      }
      const entry = { examples: lines(examples.value), answers: { en: answerEn.value.trim() || null, zh: answerZh.value.trim() || null },
        titles: current ? current.titles : {}, tags: current ? current.tags : [], enabled: true, action: bound };
      const result = await api.put(`/kb/intents/${encodeURIComponent(name.value.trim())}`, entry);
      await kb(name.value.trim());
      return result;
    });
    const examplesCsv = h("textarea", { rows: 4, placeholder: "text,label" });
    const answersCsv = h("textarea", { rows: 3, placeholder: "intent,answer_zh,answer_en" });
    const file = h("input", { type: "file", accept: ".csv,text/csv", "aria-label": t("examplesCsv") });
    file.addEventListener("change", async () => { if (file.files[0]) examplesCsv.value = await file.files[0].text(); });
    const csvForm = form(t("importCsv"), [field(t("examplesCsv"), examplesCsv), file, field(t("answersCsv"), answersCsv)],
      t("import"), async () => {
        const result = await api.post("/kb/import/csv", { examples_csv: examplesCsv.value,
          answers_csv: answersCsv.value.trim() || null, replace: false });
        await kb();
        return result;
      });
    render("kb", training,
      h("div", { class: "grid2" },
        h("section", { "aria-label": t("intents") }, h("h2", {}, t("intents")), table([t("intentName"), t("examples"), ""],
          data.intents.map((i) => [i.name, String(i.examples.length),
            h("button", { type: "button", "aria-label": `${t("edit")} ${i.name}`, onclick: () => drawKb(data, i.name) },
              t("edit"))]))),
        h("section", {}, h("h2", {}, editing ? `${t("edit")}: ${editing}` : t("addOrUpdate")), intentForm,
          h("h2", {}, t("importCsv")), csvForm)));
    if (showing !== "kb") return;
    clearTimeout(timer);
    if (model == null || model.version < data.version) timer = setTimeout(() => refreshTraining(training), 3000);
  }

  async function refreshTraining(node) {
    const data = await api.get("/kb").catch(() => null);
    if (!data || !node.isConnected) return;
    const model = data.model;
    clear(node, t("kbVersion", data.version), " · ", model ? t("liveModel", model.version) : t("noModel"),
      model && model.version < data.version ? [" · ", t("trainingPending", data.version)] : null);
    if (model == null || model.version < data.version) timer = setTimeout(() => refreshTraining(node), 3000);
  }

  // -- agents, teams, hours, canned, SLA ----------------------------------------------------------
  async function agents() {
    const list = (await guard(() => api.get("/supervisor/agents"))) || [];
    const id = h("input", { required: true });
    const name = h("input", { required: true });
    const skills = h("input", {});
    const languages = h("input", { value: "en" });
    const team = h("input", {});
    const capacity = h("input", { type: "number", min: 1, max: 20, value: 3 });
    const agentRole = h("select", {}, ["agent", "supervisor", "admin"].map((r) => h("option", { value: r }, r)));
    render("agents", table([t("id"), t("name"), t("role"), t("skills"), t("languages"), t("team"), t("capacity"), t("status")],
      list.map((a) => [a.agent_id, a.name, a.role, a.skills.join(", "), a.languages.join(", "), a.team_id || "—",
        String(a.capacity), a.status])),
    h("h2", {}, t("addOrUpdate")),
    form(t("agents"), [field(t("id"), id), field(t("name"), name), field(t("skills"), skills),
      field(t("languages"), languages), field(t("team"), team), field(t("capacity"), capacity), field(t("role"), agentRole)],
    t("save"), async () => {
      const result = await api.put(`/admin/agents/${encodeURIComponent(id.value.trim())}`, {
        name: name.value.trim(), skills: words(skills.value), languages: words(languages.value),
        team_id: team.value.trim() || null, capacity: Number(capacity.value), role: agentRole.value });
      await agents();
      return result;
    }));
  }

  async function teams() {
    const list = (await guard(() => api.get("/admin/teams"))) || [];
    const id = h("input", { required: true });
    const name = h("input", { required: true });
    render("teams", table([t("id"), t("name"), t("hours")], list.map((x) => [x.team_id, x.name,
      x.business_hours ? x.business_hours.timezone : "—"])),
    h("h2", {}, t("addOrUpdate")), form(t("teams"), [field(t("id"), id), field(t("name"), name)], t("save"), async () => {
      const result = await api.put(`/admin/teams/${encodeURIComponent(id.value.trim())}`, { name: name.value.trim() });
      await teams();
      return result;
    }));
  }

  async function hours() {
    const config = await guard(() => api.get("/admin/config"));
    if (!config) return;
    const hoursValue = config.business_hours || { timezone: "UTC", days: {}, holidays: [] };
    const timezone = h("input", { value: hoursValue.timezone });
    const days = h("textarea", { rows: 8 }, JSON.stringify(hoursValue.days, null, 1));
    const timeout = h("input", { type: "number", min: 1, value: config.offer_timeout_seconds });
    render("hours", form(t("hours"), [field(t("timezone"), timezone), field(t("days"), days), field(t("offerTimeout"), timeout)],
      t("save"), () => {
        const parsed = JSON.parse(days.value || "{}");
        const business = Object.keys(parsed).length ? { timezone: timezone.value.trim(), days: parsed,
          holidays: hoursValue.holidays || [] } : null;
        return api.put("/admin/config", { ...config, business_hours: business, offer_timeout_seconds: Number(timeout.value) });
      }));
  }

  async function canned() {
    const list = (await guard(() => api.get("/agent/canned"))) || [];
    const id = h("input", { required: true });
    const title = h("input", { required: true });
    const text = h("textarea", { rows: 3, required: true });
    render("canned", table([t("id"), t("title"), t("text")], list.map((c) => [`/${c.canned_id}`, c.title, c.text])),
      h("h2", {}, t("addOrUpdate")),
      form(t("canned"), [field(t("id"), id), field(t("title"), title), field(t("text"), text)], t("save"), async () => {
        const result = await api.put(`/admin/canned/${encodeURIComponent(id.value.trim())}`,
          { title: title.value.trim(), text: text.value.trim() });
        await canned();
        return result;
      }));
  }

  // Each priority's policy as tickets get it: the saved one, else the default (GET /admin/sla-policies).
  async function sla() {
    const policies = await guard(() => api.get("/admin/sla-policies"));
    if (!policies) return;
    render("sla", policies.map((policy) => {
      const { priority } = policy;
      const a = h("input", { type: "number", min: 1, value: policy.first_response_minutes });
      const b = h("input", { type: "number", min: 1, value: policy.resolution_minutes });
      const business = h("input", { type: "checkbox", checked: policy.business_hours });
      return h("section", {}, h("h2", {}, priority),
        h("p", { class: "hint" }, policy.stored ? t("slaStored") : t("slaDefault")),
        form(`${t("sla")} ${priority}`, [
          field(t("firstResponseMinutes"), a), field(t("resolutionMinutes"), b),
          h("label", { class: "row" }, business, h("span", {}, t("businessHoursOnly")))], t("save"), async () => {
          const result = await api.put(`/admin/sla-policies/${priority}`, { first_response_minutes: Number(a.value),
            resolution_minutes: Number(b.value), business_hours: business.checked });
          await sla();
          return result;
        }));
    }));
  }

  const views = { kb, agents, teams, hours, canned, sla };

  function show(id) {
    showing = id;
    clearTimeout(timer);
    status.textContent = "";
    clear(tabBar, tabs.map((tab) => h("button", { type: "button", role: "tab", "aria-selected": String(tab.id === id),
      onclick: () => { location.hash = `#/admin/${tab.id}`; } }, t(tab.label))));
    clear(body, h("p", { class: "empty" }, t("loading")));
    views[id]();
  }

  return {
    route(hash) {
      const wanted = (/^#\/admin\/(\w+)/.exec(hash) || [])[1];
      show(tabs.some((tab) => tab.id === wanted) ? wanted : tabs[0].id);
    },
    stop() { clearTimeout(timer); },
  };
}
