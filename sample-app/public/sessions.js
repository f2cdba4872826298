// @ts-check
// Active sessions: one row per signed-in device, from latchkey's listSessions(), with
// a button to revoke each and one to sign out everywhere else, both confirmed first.
import { api, element, requireSession, showTime, signOut } from "./app.js";

/**
 * @typedef {object} Device
 * @property {string} handle
 * @property {boolean} current
 * @property {{ name: string, mobile: boolean }} device
 * @property {string} ip
 * @property {number} createdAt
 * @property {number} lastActiveAt
 */

const list = element("#sessions", HTMLUListElement);
const status = element("#status", HTMLElement);
const others = element("#revoke-others", HTMLButtonElement);
const rowTemplate = element("#session-row", HTMLTemplateElement);

async function load() {
  /** @type {{ sessions: Device[] }} */
  const { sessions } = await api("/api/sessions");
  list.replaceChildren(...sessions.map(row));
  others.disabled = sessions.length < 2;
}

/** @param {Device} session */
function row(session) {
  const item = element("li", HTMLLIElement, /** @type {DocumentFragment} */ (rowTemplate.content.cloneNode(true)));
  item.dataset.handle = session.handle;
  element(`[data-icon=${session.device.mobile ? "desktop" : "mobile"}]`, SVGElement, item).remove();
  element("[data-field=name]", HTMLElement, item).textContent = session.device.name;
  element("[data-field=current]", HTMLElement, item).hidden = !session.current;
  element("[data-field=ip]", HTMLElement, item).textContent = session.ip;
  showTime(element("[data-field=created]", HTMLTimeElement, item), session.createdAt);
  showTime(element("[data-field=active]", HTMLTimeElement, item), session.lastActiveAt);
  const button = element("[data-action=revoke]", HTMLButtonElement, item);
  if (session.current) {
    button.textContent = "Sign out";
    button.addEventListener("click", signOut);
  } else {
    button.setAttribute("aria-label", `Revoke ${session.device.name}`);
    button.addEventListener("click", () => revoke(session, button));
  }
  return item;
}

/** @param {Device} session @param {HTMLButtonElement} button */
async function revoke(session, button) {
  if (!confirm(`Sign out ${session.device.name} (IP ${session.ip})? It will have to log in again.`)) return;
  button.disabled = true;
  await act(async () => {
    await api(`/api/sessions/${encodeURIComponent(session.handle)}`, { method: "DELETE" });
    return `Signed out ${session.device.name}.`;
  });
}

others.addEventListener("click", () => {
  const count = list.children.length - 1;
  if (!confirm(`Sign out ${count === 1 ? "the other device" : `all ${count} other devices`}? Only this one stays signed in.`)) return;
  void act(async () => {
    const { revoked } = await api("/api/sessions/revoke-others", { method: "POST" });
    return `Signed out ${revoked} other ${revoked === 1 ? "session" : "sessions"}.`;
  });
});

/** Runs an action, reloads the list, then reports the outcome. @param {() => Promise<string>} action */
async function act(action) {
  let outcome;
  try {
    outcome = { ok: true, message: await action() };
  } catch (error) {
    outcome = { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  await load();
  status.className = outcome.ok ? "alert ok" : "alert error";
  status.textContent = outcome.message;
}

async function start() {
  if (!(await requireSession())) return;
  await load();
  element("#main", HTMLElement).removeAttribute("aria-busy");
}

start();
