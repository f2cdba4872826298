// @ts-check
// Shared by every page: the SuperTokens frontend SDK's set-up, calls to the JSON API,
// the guard of signed-in pages, the sign-out button and a few formatters.
//
// The SDK wraps window.fetch: when an API call answers 401 "try refresh token" it calls
// /auth/session/refresh once (one tab at a time) and retries, so pages never see an
// expired access token.

/** @type {Set<() => void>} */
const refreshListeners = new Set();
let signedInPage = false;

supertokens.init({
  appInfo: { appName: "latchkey sample", apiDomain: location.origin, apiBasePath: "/auth" },
  recipeList: [
    supertokensSession.init({
      onHandleEvent(event) {
        if (event.action === "REFRESH_SESSION") for (const listener of refreshListeners) listener();
        // The refresh token was refused too: revoked from another device, or expired.
        if (event.action === "UNAUTHORISED" && signedInPage) sessionEnded();
      },
    }),
  ],
});

/** An API answer other than 2xx, with the message the server gave. */
export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Calls the JSON API (through the SDK's fetch) and resolves to the parsed body.
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [options]
 * @returns {Promise<any>}
 */
export async function api(path, options = {}) {
  const res = await fetch(path, {
    method: options.method ?? "GET",
    headers: options.body === undefined ? {} : { "content-type": "application/json" },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  const data = text && res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : undefined;
  if (res.ok) return data;
  if (res.status === 401 && signedInPage) sessionEnded();
  throw new ApiError(res.status, data?.message ?? `The server answered ${res.status}.`);
}

/** For pages that need a session: sends visitors without one to the log-in page. */
export async function requireSession() {
  signedInPage = true;
  element("#sign-out", HTMLButtonElement).addEventListener("click", signOut);
  if (await supertokensSession.doesSessionExist()) return true;
  location.replace("/login");
  return false;
}

export async function signOut() {
  await supertokensSession.signOut();
  location.assign("/login");
}

/** Runs `listener` each time the SDK renews the access token. @param {() => void} listener */
export function onRefresh(listener) {
  refreshListeners.add(listener);
}

let ending = false;

/** Both the SDK's event and the API's 401 report an ended session: navigate once. */
function sessionEnded() {
  if (ending) return;
  ending = true;
  location.replace("/login?ended=1");
}

/**
 * The element matching `selector`, checked to be a `type`.
 * @template {Element} T
 * @param {string} selector
 * @param {{ new (): T }} type
 * @param {ParentNode} [root]
 * @returns {T}
 */
export function element(selector, type, root = document) {
  const found = root.querySelector(selector);
  if (!(found instanceof type)) throw new Error(`no ${type.name} matches ${selector}`);
  return found;
}

/** "4:59" or "1:04:59". @param {number} ms */
export function formatDuration(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const mmss = `${h > 0 ? String(m).padStart(2, "0") : m}:${String(s).padStart(2, "0")}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "just now", "3 minutes ago", "yesterday". @param {number} at ms since the epoch */
export function formatRelative(at) {
  const seconds = Math.round((at - Date.now()) / 1000);
  if (Math.abs(seconds) < 45) return "just now";
  /** @type {[Intl.RelativeTimeFormatUnit, number][]} */
  const units = [["minute", 60], ["hour", 3600], ["day", 86400]];
  let [unit, size] = units[0] ?? ["minute", 60];
  for (const candidate of units) if (Math.abs(seconds) >= candidate[1]) [unit, size] = candidate;
  return relative.format(Math.round(seconds / size), unit);
}

/** A <time> element's text, datetime and tooltip. @param {HTMLTimeElement} time @param {number} at */
export function showTime(time, at) {
  time.dateTime = new Date(at).toISOString();
  time.title = new Date(at).toLocaleString();
  time.textContent = formatRelative(at);
}
