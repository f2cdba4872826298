// @ts-check
// The dashboard: who is signed in, the session handle, the access token's live countdown
// and its payload, and the account's roles with the demo's admin toggle. When the
// countdown reaches zero the page renews the token itself (the SDK's
// attemptRefreshingSession), so it never sits at "Expired"; "Call the API" shows a
// request going through at any time.
import { api, element, formatDuration, formatLifetime, messageOf, onPayload, onRefresh, requireSession, rolesIn, syncPayload } from "./app.js";

const countdown = element("#countdown", HTMLElement);
const meter = element("#meter", HTMLElement);
const renewError = element("#renew-error", HTMLElement);
const toggle = element("#toggle-admin", HTMLButtonElement);
const rolesStatus = element("#roles-status", HTMLElement);
/** When the access token expires, from the front token's `exp`. */
let expiresAt = 0;
/** The configured lifetime, from the server: a re-signed token keeps its expiry, so exp − iat may be less. */
let lifetime = 0;
let refreshes = 0;
/** @type {Promise<void> | undefined} */
let renewing;
let admin = false;

async function load() {
  const me = await api("/api/me");
  element("#greeting-name", HTMLElement).textContent = me.user.name;
  element("#user-name", HTMLElement).textContent = me.user.name;
  element("#user-id", HTMLElement).textContent = me.user.id;
  element("#user-since", HTMLElement).textContent = new Date(me.user.createdAt).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  element("#session-handle", HTMLElement).textContent = me.session.handle;
  element("#last-call", HTMLElement).textContent = `GET /api/me answered 200 at ${new Date().toLocaleTimeString()}`;
  lifetime = me.settings.accessTokenTtlMs;
  element("#lifetime", HTMLElement).textContent = formatLifetime(lifetime);
  expiresAt = me.session.expiresAt;
  tick();
}

/** What the token says, each time the SDK stores a new one (a refresh, a re-signed claim). @param {Record<string, any>} payload */
function show(payload) {
  element("#payload", HTMLElement).textContent = JSON.stringify(payload, null, 2);
  if (typeof payload.exp === "number") expiresAt = payload.exp * 1000;
  const roles = rolesIn(payload);
  admin = roles.includes("admin");
  const list = element("#roles", HTMLElement);
  list.replaceChildren(
    ...(roles.length > 0
      ? roles.map((role) => Object.assign(document.createElement("span"), { className: "pill role", textContent: role }))
      : [Object.assign(document.createElement("span"), { className: "muted", textContent: "No roles: the admin page is closed to you." })]),
  );
  toggle.textContent = admin ? "Remove admin" : "Make me admin";
  tick();
}

function tick() {
  if (expiresAt === 0) return;
  const left = expiresAt - Date.now();
  if (left <= 0 && !renewing) renewing = renew().finally(() => (renewing = undefined));
  countdown.textContent = left > 0 ? formatDuration(left) : renewing ? "Renewing…" : "Expired";
  countdown.classList.toggle("expired", left <= 0);
  meter.style.width = `${lifetime > 0 ? Math.max(0, Math.min(1, left / lifetime)) * 100 : 0}%`;
}

/**
 * The countdown reached zero: renew the token now rather than at the next click. The SDK
 * refreshes once across tabs; a refused refresh token (revoked elsewhere) ends the page
 * through its UNAUTHORISED event. A network failure is retried a few seconds later.
 */
async function renew() {
  try {
    if (await supertokensSession.attemptRefreshingSession()) {
      renewError.textContent = "";
      // Another tab may have done the refresh: read the expiry from the token either way.
      show(await supertokensSession.getAccessTokenPayloadSecurely());
    }
  } catch (error) {
    renewError.textContent = `Could not renew the access token (${messageOf(error)}). Trying again in a few seconds.`;
  }
  // Not renewed (offline, or the session ended and the page is leaving): wait before trying again.
  if (expiresAt <= Date.now()) await new Promise((resolve) => setTimeout(resolve, 5000));
}

onRefresh(() => {
  refreshes++;
  element("#refreshes", HTMLElement).textContent = `Renewed ${refreshes} ${refreshes === 1 ? "time" : "times"}`;
});

element("#reload", HTMLButtonElement).addEventListener("click", () => load().catch(report));

toggle.addEventListener("click", async () => {
  toggle.disabled = true;
  rolesStatus.className = "alert ok";
  rolesStatus.textContent = "";
  try {
    const wanted = !admin;
    // The answer carries this device's re-signed token, with the new roles.
    await api("/api/me/admin", { method: "POST", body: { admin: wanted } });
    await syncPayload();
    rolesStatus.textContent = wanted
      ? "You are an admin now: the Admin page is open. Your other signed-in devices get it within seconds."
      : "You are no longer an admin. Your other signed-in devices lose the Admin page within seconds.";
  } catch (error) {
    rolesStatus.className = "alert error";
    rolesStatus.textContent = messageOf(error);
  } finally {
    toggle.disabled = false;
  }
});

/** @param {unknown} error */
function report(error) {
  element("#last-call", HTMLElement).textContent = messageOf(error);
}

async function start() {
  if (!(await requireSession())) return;
  await load().catch(report);
  onPayload(show);
  element("#main", HTMLElement).removeAttribute("aria-busy");
  setInterval(tick, 250);
}

start();
