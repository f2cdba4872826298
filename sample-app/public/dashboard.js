// @ts-check
// The dashboard: who is signed in, the session handle, the access token's live
// countdown and its payload. "Call the API" after the countdown ran out shows the SDK
// renewing the token on the way.
import { api, element, formatDuration, onRefresh, requireSession } from "./app.js";

const countdown = element("#countdown", HTMLElement);
const meter = element("#meter", HTMLElement);
const hint = element("#countdown-hint", HTMLElement);
let expiresAt = 0;
let lifetime = 0;
let refreshes = 0;

async function load() {
  const me = await api("/api/me");
  const payload = await supertokensSession.getAccessTokenPayloadSecurely();
  element("#greeting-name", HTMLElement).textContent = me.user.name;
  element("#user-name", HTMLElement).textContent = me.user.name;
  element("#user-id", HTMLElement).textContent = me.user.id;
  element("#user-since", HTMLElement).textContent = new Date(me.user.createdAt).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  element("#session-handle", HTMLElement).textContent = me.session.handle;
  element("#payload", HTMLElement).textContent = JSON.stringify(payload, null, 2);
  element("#last-call", HTMLElement).textContent = `GET /api/me answered 200 at ${new Date().toLocaleTimeString()}`;
  expiresAt = me.session.expiresAt;
  lifetime = (payload.exp - payload.iat) * 1000;
  tick();
}

function tick() {
  const left = expiresAt - Date.now();
  const expired = left <= 0;
  countdown.textContent = expired ? "Expired" : formatDuration(left);
  countdown.classList.toggle("expired", expired);
  meter.style.width = `${lifetime > 0 ? Math.max(0, Math.min(1, left / lifetime)) * 100 : 0}%`;
  hint.textContent = expired
    ? "The SDK renews it with the refresh token at the next API call: try the button."
    : `of a ${formatDuration(lifetime)} lifetime; then the SDK renews it, no reload needed.`;
}

onRefresh(() => {
  refreshes++;
  element("#refreshes", HTMLElement).textContent = `Renewed ${refreshes} ${refreshes === 1 ? "time" : "times"}`;
});

element("#reload", HTMLButtonElement).addEventListener("click", () => load().catch(report));

/** @param {unknown} error */
function report(error) {
  element("#last-call", HTMLElement).textContent = error instanceof Error ? error.message : String(error);
}

async function start() {
  if (!(await requireSession())) return;
  await load().catch(report);
  element("#main", HTMLElement).removeAttribute("aria-busy");
  setInterval(tick, 250);
}

start();
