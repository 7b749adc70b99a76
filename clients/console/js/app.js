// The console's shell: configuration, sign-in, the header and the pages (#/work, #/tickets, #/dashboard,
// #/admin). Supervisor and admin pages are hidden from agents; the API refuses them anyway.
import { Api, ApiError } from "./api.js";
import { AuthError, Session } from "./auth.js";
import { clear, field, h } from "./dom.js";
import { lang, setLang, t } from "./i18n.js";

const PAGES = [
  { path: "work", label: "workspace", roles: ["agent", "supervisor", "admin"], load: () => import("./workspace.js") },
  { path: "tickets", label: "tickets", roles: ["agent", "supervisor", "admin"], load: () => import("./tickets.js") },
  { path: "dashboard", label: "dashboard", roles: ["supervisor", "admin"], load: () => import("./dashboard.js") },
  { path: "admin", label: "admin", roles: ["supervisor", "admin"], load: () => import("./admin.js") },
];

const main = document.getElementById("main");
const header = document.querySelector(".bar");
const banner = document.querySelector(".banner");
let config, session, api, current = null, flash = "", renders = 0;

export function showBanner(text) {
  banner.hidden = !text;
  banner.textContent = text || "";
}

async function boot() {
  config = await (await fetch(new URL("/config.json", location.href))).json().catch(() => ({}));
  session = new Session(config.cognito);
  api = new Api(config.api || "", session);
  session.fromFragment();
  session.addEventListener("expired", () => { flash = flash || t("tokenExpired"); render(); });
  document.querySelector(".sign-out").addEventListener("click", async () => {
    stopPage();
    await session.signOut();
    location.hash = "";
    render();
  });
  const select = document.querySelector(".lang-select");
  select.value = lang();
  select.addEventListener("change", () => { setLang(select.value); stopPage(); render(); });
  window.addEventListener("hashchange", render);
  render();
}

function stopPage() {
  if (current && current.stop) current.stop();
  current = null;
  renders += 1; // a mount still in progress is stopped when it finishes
}

function signInPage() {
  header.hidden = true;
  document.title = t("signInTitle");
  const username = h("input", { name: "username", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "error", role: "alert" }, flash);
  const button = h("button", { type: "submit", class: "primary" }, t("signIn"));
  const form = h("form", { class: "signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, t("signInTitle")),
    field(t("username"), username), field(t("password"), password), button, error,
    h("p", { class: "hint" }, t("sessionHint")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    button.textContent = t("signingIn");
    error.textContent = "";
    try {
      const challenge = await session.signIn(username.value.trim(), password.value);
      if (challenge) challengePage(challenge); else signedIn();
    } catch (exc) {
      const known = exc instanceof AuthError && ["NotAuthorizedException", "UserNotFoundException"].includes(exc.code);
      error.textContent = known ? t("badCredentials") : t("signInFailed", exc.message);
      button.disabled = false;
      button.textContent = t("signIn");
      password.select();
    }
  });
  clear(main, form);
  username.focus();
}

function signedIn() {
  flash = "";
  if (location.hash === "#/work") render(); else location.hash = "#/work"; // hashchange renders
}

// What Cognito asks for before it issues tokens: a new password (an account an admin created, or whose
// password was reset) or the 6-digit code of the user's authenticator app. Either may follow the other.
function challengePage(challenge) {
  const mfa = challenge.name === "SOFTWARE_TOKEN_MFA";
  const answer = mfa
    ? h("input", { name: "code", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}",
      maxlength: 6, required: true })
    : h("input", { name: "new-password", type: "password", autocomplete: "new-password", required: true });
  const again = mfa ? null
    : h("input", { name: "confirm-password", type: "password", autocomplete: "new-password", required: true });
  const error = h("p", { class: "error", role: "alert" });
  const button = h("button", { type: "submit", class: "primary" }, mfa ? t("verify") : t("setPassword"));
  const form = h("form", { class: "signin", "aria-labelledby": "challenge-title" },
    h("h1", { id: "challenge-title" }, mfa ? t("mfaTitle") : t("newPasswordTitle")),
    h("p", { class: "hint" }, mfa ? t("mfaHint") : t("newPasswordHint", challenge.username)),
    field(mfa ? t("code") : t("newPassword"), answer), again && field(t("confirmPassword"), again), button, error,
    h("button", { type: "button", onclick: () => { flash = ""; signInPage(); } }, t("backToSignIn")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (again && answer.value !== again.value) { error.textContent = t("passwordsDiffer"); again.select(); return; }
    button.disabled = true;
    error.textContent = "";
    try {
      const next = await session.respond(challenge, mfa ? answer.value.trim() : answer.value);
      if (next) challengePage(next); else signedIn();
    } catch (exc) {
      // Cognito's session for a challenge lasts three minutes, and ends after too many wrong codes
      if (exc.code === "NotAuthorizedException") { flash = t("challengeExpired"); signInPage(); return; }
      error.textContent = exc.code === "CodeMismatchException" ? t("badCode")
        : exc.code === "InvalidPasswordException" ? t("weakPassword", exc.message) : t("signInFailed", exc.message);
      button.disabled = false;
      answer.select();
    }
  });
  clear(main, form);
  answer.focus();
}

async function render() {
  if (!session.signedIn) { stopPage(); signInPage(); return; }
  const who = session.principal;
  if (!who.role) { flash = t("notAgentToken"); session.expire(); return; }
  const allowed = PAGES.filter((p) => p.roles.includes(who.role));
  const path = (location.hash.match(/^#\/(\w+)/) || [])[1] || "work";
  const page = PAGES.find((p) => p.path === path) || PAGES[0];
  header.hidden = false;
  document.querySelector(".sign-out").textContent = t("signOut");
  document.querySelector(".who").textContent = `${who.id} · ${t(`roles.${who.role}`)}`;
  document.querySelector(".brand").textContent = t("brand");
  document.title = t("brand");
  clear(document.querySelector(".nav"), allowed.map((p) => h("a", {
    href: `#/${p.path}`, "aria-current": p === page ? "page" : null }, t(p.label))));
  if (current && current.path === page.path && current.lang === lang()) {
    if (current.route) current.route(location.hash);
    return; // the same page (a mount in progress routes itself when it is ready)
  }
  stopPage();
  if (!page.roles.includes(who.role)) {
    clear(main, h("p", { class: "error", role: "alert" }, t("forbiddenPage")));
    return;
  }
  clear(main, h("p", { class: "empty" }, t("loading")));
  const seq = ++renders;
  current = { path: page.path, lang: lang(), pending: true };
  const module = await page.load();
  if (seq !== renders) return;
  // each page draws into its own container: one that was left meanwhile draws into a detached one
  const container = h("div", { class: "page" });
  clear(main, container);
  const mounted = await module.mount(container, { api, session, config, showBanner, refused: (exc) => refused(exc) });
  if (seq !== renders) { if (mounted.stop) mounted.stop(); return; } // another page was asked for meanwhile
  current = { path: page.path, lang: lang(), ...mounted };
  if (current.route) current.route(location.hash);
}

/** The API refused our token itself (not a page's permission): back to sign-in with the reason. */
function refused(exc) {
  if (exc instanceof ApiError && (exc.status === 401 || ["token_invalid", "token_expired", "role_missing"].includes(exc.code))) {
    flash = exc.code === "token_expired" ? t("tokenExpired") : t("notAgentToken");
    stopPage();
    session.expire();
    return true;
  }
  return false;
}

boot();
