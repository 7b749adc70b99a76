// Tickets: a list with filters (status, priority, assignee, SLA breached) and a ticket page (fields,
// public and internal comments, the audit trail, SLA due times). #/tickets and #/tickets/<id>.
import { clear, field, h, when } from "./dom.js";
import { t } from "./i18n.js";

const STATUSES = ["new", "open", "pending", "solved", "closed"];
const PRIORITIES = ["low", "normal", "high", "urgent"];

export async function mount(root, { api, showBanner, refused }) {
  const filters = { status: "new", priority: "", assignee: "", breached: false };

  async function list() {
    const status = h("select", {}, STATUSES.map((s) => h("option", { value: s, selected: s === filters.status || null }, s)));
    const priority = h("select", {}, h("option", { value: "" }, t("all")),
      PRIORITIES.map((p) => h("option", { value: p, selected: p === filters.priority || null }, p)));
    const assignee = h("input", { value: filters.assignee });
    const breached = h("input", { type: "checkbox", checked: filters.breached || null });
    const body = h("div", {}, h("p", { class: "empty" }, t("loading")));
    const form = h("form", { class: "filters", role: "search", "aria-label": t("filters") },
      field(t("status"), status), field(t("priority"), priority), field(t("assignee"), assignee),
      h("label", { class: "row" }, breached, h("span", {}, t("slaBreached"))),
      h("button", { type: "submit", class: "primary" }, t("apply")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      Object.assign(filters, { status: status.value, priority: priority.value, assignee: assignee.value.trim(),
        breached: breached.checked });
      list();
    });
    clear(root, h("h1", {}, t("tickets")), form, body);
    let rows;
    try { rows = await api.get(`/tickets?status=${filters.status}`); } catch (exc) {
      if (!refused(exc)) clear(body, h("p", { class: "error" }, t("error", exc.message)));
      return;
    }
    rows = rows.filter((r) => (!filters.priority || r.priority === filters.priority)
      && (!filters.assignee || (r.assignee || "") === filters.assignee)
      && (!filters.breached || (r.breaches || []).length));
    clear(body, rows.length ? h("table", {}, h("thead", {}, h("tr", {}, [t("subject"), t("status"), t("priority"),
      t("assignee"), t("dueFirst"), t("dueResolution"), t("slaBreached")].map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.map((r) => h("tr", {},
      h("td", {}, h("a", { href: `#/tickets/${encodeURIComponent(r.ticket_id)}` }, r.subject)),
      h("td", {}, r.status), h("td", {}, r.priority), h("td", {}, r.assignee || "—"),
      h("td", {}, when(r.first_response_due_ms)), h("td", {}, when(r.resolution_due_ms)),
      h("td", {}, (r.breaches || []).join(", ") || "—")))))
      : h("p", { class: "empty" }, t("noTickets")));
  }

  async function page(id) {
    clear(root, h("p", { class: "empty" }, t("loading")));
    let ticket;
    try { ticket = await api.get(`/tickets/${encodeURIComponent(id)}`); } catch (exc) {
      if (!refused(exc)) clear(root, h("p", { class: "error", role: "alert" }, t("error", exc.message)));
      return;
    }
    const status = h("select", {}, STATUSES.map((s) => h("option", { value: s, selected: s === ticket.status || null }, s)));
    const priority = h("select", {}, PRIORITIES.map((p) => h("option", { value: p, selected: p === ticket.priority || null }, p)));
    const assignee = h("input", { value: ticket.assignee || "" });
    const comment = h("textarea", {});
    const isPublic = h("input", { type: "checkbox" });
    const saved = h("span", { role: "status", class: "ok" });
    const form = h("form", { class: "stack", "aria-label": t("fields") },
      field(t("status"), status), field(t("priority"), priority), field(t("assignee"), assignee),
      field(t("comment"), comment), h("label", { class: "row" }, isPublic, h("span", {}, t("publicComment"))),
      h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, t("save")), saved));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const patch = {};
      if (status.value !== ticket.status) patch.status = status.value;
      if (priority.value !== ticket.priority) patch.priority = priority.value;
      if (assignee.value.trim() && assignee.value.trim() !== ticket.assignee) patch.assignee = assignee.value.trim();
      if (comment.value.trim()) { patch.comment = comment.value.trim(); patch.public = isPublic.checked; }
      try { await api.patch(`/tickets/${encodeURIComponent(id)}`, patch); saved.textContent = t("saved"); page(id); }
      catch (exc) { showBanner(t("error", exc.message)); }
    });
    const comments = (ticket.audit || []).filter((a) => a.changes && a.changes.comment);
    clear(root, h("p", {}, h("a", { href: "#/tickets" }, t("back"))),
      h("h1", {}, `${t("ticket")}: ${ticket.subject}`),
      h("div", { class: "grid2" },
        h("section", { "aria-label": t("fields") },
          h("dl", { class: "panel" }, h("dt", {}, t("id")), h("dd", {}, ticket.ticket_id),
            h("dt", {}, t("customer")), h("dd", {}, ticket.customer_id || "—"),
            h("dt", {}, t("dueFirst")), h("dd", {}, when(ticket.first_response_due_ms) || "—"),
            h("dt", {}, t("dueResolution")), h("dd", {}, when(ticket.resolution_due_ms) || "—"),
            h("dt", {}, t("slaBreached")), h("dd", {}, (ticket.breaches || []).join(", ") || "—")),
          form),
        h("section", {},
          h("h2", {}, t("comments")),
          comments.length ? h("ul", {}, comments.map((c) => h("li", { class: c.changes.public ? "" : "msg internal" },
            `${when(c.at_ms)} ${c.actor}: ${c.changes.comment}`, c.changes.public ? "" : ` (${t("internal")})`)))
            : h("p", { class: "empty" }, t("none")),
          h("h2", {}, t("audit")),
          h("table", {}, h("tbody", {}, (ticket.audit || []).map((a) => h("tr", {}, h("td", {}, when(a.at_ms)),
            h("td", {}, a.actor), h("td", {}, a.action), h("td", {}, JSON.stringify(a.changes)))))))));
  }

  return {
    route(hash) {
      const match = /^#\/tickets\/(.+)$/.exec(hash);
      if (match) page(decodeURIComponent(match[1])); else list();
    },
    stop() {},
  };
}
