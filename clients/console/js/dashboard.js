// Supervisor dashboard: today's live counters, the waiting queue and every agent's status and load
// (refreshed every 5 s without reloading), KPI charts for a date range (Chart.js, loaded on this page
// only) and the forecast with its staffing table.
import { clear, field, h } from "./dom.js";
import { t } from "./i18n.js";

const REFRESH_MS = 5000;
const CHART_JS = new URL("../node_modules/chart.js/dist/chart.umd.min.js", import.meta.url).href;
const COLOURS = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#dc2626", "#ca8a04", "#db2777", "#4b5563"];
const NOT_TOPICS = new Set(["unknown", "none", "", "greeting", "thanks", "goodbye", "smalltalk", "oos", "fallback"]);

let chartLoader = null;
function loadChartJs() {
  chartLoader = chartLoader || new Promise((resolve, reject) => {
    if (window.Chart) { resolve(window.Chart); return; }
    const script = document.createElement("script");
    script.src = CHART_JS;
    script.onload = () => resolve(window.Chart);
    script.onerror = () => reject(new Error("chart.js did not load (run make install)"));
    document.head.append(script);
  });
  return chartLoader;
}

const isoDay = (d) => d.toISOString().slice(0, 10);

export async function mount(root, { api, refused }) {
  const cards = h("div", { class: "cards", "aria-live": "polite", "aria-label": t("today") });
  const queue = h("div", {});
  const agents = h("div", {});
  const today = new Date();
  const from = h("input", { type: "date", value: isoDay(new Date(today.getTime() - 6 * 86400_000)) });
  const to = h("input", { type: "date", value: isoDay(today) });
  const kpiForm = h("form", { class: "filters", "aria-label": t("kpis") }, field(t("from"), from), field(t("to"), to),
    h("button", { type: "submit", class: "primary" }, t("show")));
  const charts = h("div", { class: "grid2" });
  const kpiNote = h("p", { class: "empty", role: "status" });
  const forecast = h("div", {});
  let live = [];
  clear(root,
    h("h1", {}, t("dashboard")),
    h("section", { "aria-labelledby": "today-h" }, h("h2", { id: "today-h" }, t("today")), cards),
    h("div", { class: "grid2" },
      h("section", { "aria-labelledby": "queue-h" }, h("h2", { id: "queue-h" }, t("queue")), queue),
      h("section", { "aria-labelledby": "agents-h" }, h("h2", { id: "agents-h" }, t("agents")), agents)),
    h("section", { "aria-labelledby": "kpi-h" }, h("h2", { id: "kpi-h" }, t("kpis")), kpiForm, kpiNote, charts),
    h("section", { "aria-labelledby": "fc-h" }, h("h2", { id: "fc-h" }, t("forecast")), forecast));

  async function refresh() {
    try {
      const [counters, waiting, floor] = await Promise.all([api.get("/metrics/live"), api.get("/supervisor/queue"),
        api.get("/supervisor/agents")]);
      const csat = counters.csat_responses ? (counters.csat_score_sum / counters.csat_responses).toFixed(2) : "—";
      clear(cards, ["conversations", "messages_in", "handoffs", "queue_length", "agents_online", "csat_responses"]
        .map((k) => h("div", { class: "card" }, h("div", { class: "v" }, counters[k] ?? 0), h("div", { class: "l" }, t(`counters.${k}`)))),
      h("div", { class: "card" }, h("div", { class: "v", "data-testid": "csat-today" }, csat), h("div", { class: "l" }, t("counters.csat_avg"))));
      const now = Date.now();
      clear(queue, waiting.length ? h("table", {}, h("thead", {}, h("tr", {}, [t("customer"), t("priority"), t("languages"),
        t("waiting")].map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, waiting.map((q) => h("tr", {},
        h("td", {}, q.customer_id), h("td", {}, q.priority ?? ""), h("td", {}, q.language || ""),
        h("td", {}, `${Math.round((now - (q.queued_ms || now)) / 1000)} s`)))))
        : h("p", { class: "empty" }, t("none")));
      clear(agents, h("table", {}, h("thead", {}, h("tr", {}, [t("name"), t("role"), t("status"), t("load")]
        .map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, floor.map((a) => h("tr", {},
        h("td", {}, a.name, " (", a.agent_id, ")"), h("td", {}, t(`roles.${a.role}`)),
        h("td", {}, h("span", { class: `dot ${a.status}`, "aria-hidden": "true" }), " ", t(a.status)),
        h("td", {}, `${a.load} / ${a.capacity}`))))));
    } catch (exc) {
      if (refused(exc)) stop();
    }
  }

  function chart(Chart, title, config) {
    const canvas = h("canvas", { role: "img", "aria-label": title });
    charts.append(h("figure", { class: "chart-box" }, h("figcaption", {}, title), canvas));
    live.push(new Chart(canvas, { ...config, options: { maintainAspectRatio: false, animation: false,
      plugins: { legend: { position: "bottom" } }, elements: { point: { radius: 4 } }, ...(config.options || {}) } }));
  }

  async function kpis() {
    for (const c of live) c.destroy();
    live = [];
    clear(charts);
    kpiNote.textContent = t("loading");
    let report, Chart;
    try {
      [report, Chart] = await Promise.all([api.get(`/metrics/kpis?from=${from.value}&to=${to.value}`), loadChartJs()]);
    } catch (exc) {
      if (!refused(exc)) kpiNote.textContent = t("error", exc.message);
      return;
    }
    const empty = !report.volume_by_channel.length && !report.daily_trends.length;
    kpiNote.textContent = empty ? t("noData") : "";
    const days = report.daily_trends.map((d) => d.day);
    chart(Chart, t("volumeByChannel"), { type: "bar", data: { labels: report.volume_by_channel.map((v) => v.channel),
      datasets: [{ label: t("counters.conversations"), data: report.volume_by_channel.map((v) => v.conversations),
        backgroundColor: COLOURS }] } });
    chart(Chart, t("firstResponse"), { type: "bar", data: { labels: [t("bot"), t("human")], datasets: [{ label: t("firstResponse"),
      data: [report.first_response.avg_bot_first_response_seconds, report.first_response.avg_human_first_response_seconds],
      backgroundColor: [COLOURS[4], COLOURS[0]] }] } });
    chart(Chart, t("containment"), { type: "line", data: { labels: days, datasets: [{ label: "%", spanGaps: false,
      data: report.daily_trends.map((d) => d.containment_rate == null ? null : 100 * d.containment_rate),
      borderColor: COLOURS[1] }] }, options: { scales: { y: { min: 0, max: 100 } } } });
    chart(Chart, `${t("csatTrend")} · NPS ${report.nps.nps ?? "—"} (${report.nps.responses})`, { type: "line",
      data: { labels: days, datasets: [{ label: "CSAT", data: report.daily_trends.map((d) => d.avg_csat),
        borderColor: COLOURS[2] }] }, options: { scales: { y: { min: 0, max: 5 } } } });
    chart(Chart, t("slaBreaches"), { type: "bar", data: { labels: days, datasets: [{ label: t("slaBreaches"),
      data: report.daily_trends.map((d) => d.sla_breaches), backgroundColor: COLOURS[5] }] } });
    const intents = report.volume_by_intent.filter((i) => !NOT_TOPICS.has(String(i.intent).toLowerCase())).slice(0, 10);
    chart(Chart, t("topIntents"), { type: "bar", data: { labels: intents.map((i) => i.intent), datasets: [{
      label: t("topIntents"), data: intents.map((i) => i.decisions), backgroundColor: COLOURS[3] }] },
    options: { indexAxis: "y" } });
  }

  async function loadForecast() {
    try {
      const plan = await api.get("/metrics/forecast?days=7");
      const rows = plan.staffing.filter((r) => r.arrivals_per_hour >= 0.05).slice(0, 48);
      clear(forecast, h("p", { class: "hint" }, `AHT ${Math.round(plan.aht_seconds)} s · ${plan.forecast.method}`),
        rows.length ? h("table", {}, h("thead", {}, h("tr", {}, [t("hour"), t("contacts"), t("agentsNeeded")]
          .map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, rows.map((r) => h("tr", {},
          h("td", {}, new Date(r.hour_start).toISOString().slice(0, 16).replace("T", " ")),
          h("td", {}, r.arrivals_per_hour.toFixed(1)), h("td", {}, r.agents))))) : h("p", { class: "empty" }, t("noData")));
    } catch (exc) {
      if (!refused(exc)) clear(forecast, h("p", { class: "empty" }, exc.message));
    }
  }

  kpiForm.addEventListener("submit", (event) => { event.preventDefault(); kpis(); });
  await refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  kpis();
  loadForecast();
  function stop() { clearInterval(timer); for (const c of live) c.destroy(); live = []; }
  return { stop };
}
