// @ts-check
// Account: change the password. The API route asks for a recent login — latchkey's
// requireFresh(), which answers 403 with the validator id "latchkey-fresh" when the
// session's login time (authTime) is too old. Then this page asks for the current
// password, posts it to /api/reauthenticate (which renews authTime in place: same
// session, no new login) and tries the change again.
import { ApiError, api, element, formatDuration, formatLifetime, formatRelative, messageOf, onPayload, requireSession } from "./app.js";

const FRESH_VALIDATOR_ID = "latchkey-fresh";

const form = element("#password-form", HTMLFormElement);
const confirmForm = element("#confirm-form", HTMLFormElement);
const confirmError = element("#confirm-error", HTMLElement);
const status = element("#password-status", HTMLElement);
const freshness = element("#freshness", HTMLElement);
const current = element("input[name=current]", HTMLInputElement, confirmForm);
/** When the user last entered their password (log-in or confirmation), ms since the epoch. */
let authTime = 0;
let freshSeconds = 300;
/** The new password, kept only while the user confirms who they are. @type {string | undefined} */
let pending;

async function load() {
  const me = await api("/api/me");
  element("#account-name", HTMLElement).textContent = me.user.name;
  authTime = me.session.authTime;
  freshSeconds = me.settings.freshSeconds;
  showFreshness();
}

function showFreshness() {
  if (authTime === 0) return;
  const left = authTime + freshSeconds * 1000 - Date.now();
  freshness.textContent =
    left > 0
      ? `You last entered your password ${formatRelative(authTime)}. For ${formatDuration(left)} more you can change it without entering it again.`
      : `You last entered your password more than ${formatLifetime(freshSeconds * 1000)} ago, so we will ask for it before changing it.`;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = new FormData(form);
  const password = String(fields.get("password") ?? "");
  if (password !== String(fields.get("repeat") ?? "")) {
    say(false, "The two new passwords differ. Type the same one twice.");
    return;
  }
  pending = password;
  await change(false);
});

/** Posts the pending change; a session too old for it opens the confirmation step. @param {boolean} confirmed */
async function change(confirmed) {
  const submit = element("button[type=submit]", HTMLButtonElement, form);
  submit.disabled = true;
  say(true, "");
  try {
    const { signedOutOthers } = await api("/api/me/password", { method: "POST", body: { password: pending } });
    finish();
    const others = signedOutOthers === 0 ? "" : ` ${signedOutOthers} other ${signedOutOthers === 1 ? "session was" : "sessions were"} signed out.`;
    say(true, `Your password was changed.${others}`);
  } catch (error) {
    const tooOld = freshnessFailure(error);
    if (tooOld && !confirmed) askForPassword(tooOld.maxAgeInSeconds);
    else {
      finish();
      say(false, tooOld ? "Your password could not be confirmed in time. Try again." : messageOf(error));
    }
  } finally {
    submit.disabled = false;
  }
}

/**
 * The requireFresh() failure in a 403 body, if that is what it is.
 * @param {unknown} error
 * @returns {{ maxAgeInSeconds: number } | undefined}
 */
function freshnessFailure(error) {
  if (!(error instanceof ApiError) || error.status !== 403 || !Array.isArray(error.body?.claimValidationErrors)) return undefined;
  const failure = error.body.claimValidationErrors.find((/** @type {any} */ entry) => entry?.id === FRESH_VALIDATOR_ID);
  return failure ? { maxAgeInSeconds: Number(failure.reason?.maxAgeInSeconds) || freshSeconds } : undefined;
}

/** @param {number} maxAgeInSeconds */
function askForPassword(maxAgeInSeconds) {
  form.hidden = true;
  confirmForm.hidden = false;
  confirmError.textContent = "";
  element("#confirm-why", HTMLElement).textContent =
    `You last entered your password more than ${formatLifetime(maxAgeInSeconds * 1000)} ago. Enter your current password to change it.`;
  current.value = "";
  current.focus();
}

confirmForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const submit = element("button[type=submit]", HTMLButtonElement, confirmForm);
  submit.disabled = true;
  confirmError.textContent = "";
  try {
    // Renews this session's login time; the SDK stores the re-signed token it answers with.
    const { authTime: renewed } = await api("/api/reauthenticate", { method: "POST", body: { password: current.value } });
    authTime = renewed;
    showFreshness();
    confirmForm.hidden = true;
    form.hidden = false;
    await change(true);
  } catch (error) {
    confirmError.textContent = messageOf(error);
    current.value = "";
    current.focus();
  } finally {
    submit.disabled = false;
  }
});

element("#confirm-cancel", HTMLButtonElement).addEventListener("click", () => {
  finish();
  say(false, "Your password was not changed.");
});

/** Back to the empty form, forgetting the new password. */
function finish() {
  pending = undefined;
  current.value = "";
  confirmForm.hidden = true;
  form.hidden = false;
  form.reset();
}

/** @param {boolean} ok @param {string} message */
function say(ok, message) {
  status.className = ok ? "alert ok" : "alert error";
  status.textContent = message;
}

async function start() {
  if (!(await requireSession())) return;
  await load().catch((error) => say(false, messageOf(error)));
  onPayload((payload) => {
    if (typeof payload.authTime === "number") authTime = payload.authTime * 1000;
    showFreshness();
  });
  element("#main", HTMLElement).removeAttribute("aria-busy");
  setInterval(showFreshness, 1000);
}

start();
