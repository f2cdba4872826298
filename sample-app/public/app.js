// @ts-check
// Shared by every page: the SuperTokens frontend SDK's set-up, calls to the JSON API,
// the guard of signed-in pages, the sign-out button, the heartbeat that keeps a page's
// view of its session current, and a few formatters.
//
// The SDK wraps window.fetch: when an API call answers 401 "try refresh token" it calls
// /auth/session/refresh once (one tab at a time) and retries, so pages never see an
// expired access token. Every response that re-signs the token carries a front token,
// from which the SDK reads the payload — the user's roles included ("st-role").

/** How often a visible signed-in page asks the server whether its session changed. */
const HEARTBEAT_MS = 3000;

/** @type {Set<() => void>} */
const refreshListeners = new Set();
/** @type {Set<(payload: Record<string, any>) => void>} */
const payloadListeners = new Set();
let signedInPage = false;
let signingOut = false;

supertokens.init({
  appInfo: { appName: "latchkey sample", apiDomain: location.origin, apiBasePath: "/auth" },
  recipeList: [
    supertokensSession.init({
      onHandleEvent(event) {
        if (event.action === "REFRESH_SESSION") for (const listener of refreshListeners) listener();
        // A new front token: a refresh, or a claim re-signed (a role change). Read it once
        // the SDK has stored it.
        if (event.action === "REFRESH_SESSION" || event.action === "ACCESS_TOKEN_PAYLOAD_UPDATED") setTimeout(syncPayload, 0);
        // The refresh token was refused too: revoked from another device, or expired.
        if (event.action === "UNAUTHORISED" && signedInPage) sessionEnded();
      },
    }),
  ],
});

/** An API answer other than 2xx, with the message the server gave and its body. */
export class ApiError extends Error {
  /** @param {number} status @param {string} message @param {any} body */
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
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
  throw new ApiError(res.status, data?.message ?? `The server answered ${res.status}.`, data);
}

/** The message of a failure, for the page. @param {unknown} error */
export function messageOf(error) {
  return error instanceof Error ? error.message : "Something went wrong. Try again.";
}

/**
 * For pages that need a session: sends visitors without one to the log-in page, then
 * keeps the page current. Every few seconds while the page is visible it calls
 * `heartbeat` (by default GET /api/heartbeat): a role changed on another device comes
 * back as a re-signed token, and a revoked session as a 401 that ends the page.
 * @param {{ heartbeat?: () => Promise<unknown> }} [options]
 */
export async function requireSession(options = {}) {
  signedInPage = true;
  element("#sign-out", HTMLButtonElement).addEventListener("click", signOut);
  if (!(await supertokensSession.doesSessionExist())) {
    location.replace("/login");
    return false;
  }
  await syncPayload();
  startHeartbeat(options.heartbeat ?? (() => api("/api/heartbeat")));
  return true;
}

export async function signOut() {
  signingOut = true;
  try {
    await supertokensSession.signOut();
  } finally {
    location.assign("/login?signed-out=1");
  }
}

/** Runs `listener` each time this tab renews the access token. @param {() => void} listener */
export function onRefresh(listener) {
  refreshListeners.add(listener);
}

/**
 * Runs `listener` with the access-token payload (as the SDK reads it from the front token)
 * now, if it is known, and each time it changes.
 * @param {(payload: Record<string, any>) => void} listener
 */
export function onPayload(listener) {
  payloadListeners.add(listener);
  if (lastPayload) listener(lastPayload);
}

/** The roles in a payload, read by the SDK's own UserRoleClaim ("st-role"). @param {Record<string, any>} payload @returns {string[]} */
export function rolesIn(payload) {
  return supertokensUserRoles.UserRoleClaim.getValueFromPayload(payload) ?? [];
}

/** @type {Record<string, any> | undefined} */
let lastPayload;
let lastPayloadText = "";
let syncing = Promise.resolve();

/**
 * Reads the payload from the front token and tells the page when it changed: the admin
 * link in the menu follows the roles it carries. Calls run one after another, so a slow
 * read never overwrites a newer one.
 */
export function syncPayload() {
  syncing = syncing.then(async () => {
    if (ending || signingOut || !(await supertokensSession.doesSessionExist())) return;
    /** @type {Record<string, any>} */
    const payload = await supertokensSession.getAccessTokenPayloadSecurely();
    const text = JSON.stringify(payload);
    if (text === lastPayloadText) return;
    lastPayload = payload;
    lastPayloadText = text;
    const adminLink = document.querySelector("#nav-admin");
    if (adminLink instanceof HTMLElement) adminLink.hidden = !rolesIn(payload).includes("admin");
    for (const listener of payloadListeners) listener(payload);
  }).catch(() => {}); // a refresh that failed ends the page through the SDK's UNAUTHORISED event
  return syncing;
}

/** @param {() => Promise<unknown>} check */
function startHeartbeat(check) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let running = false;
  const beat = async () => {
    if (running || ending || signingOut) return;
    clearTimeout(timer);
    // A tab in the background asks nothing; it catches up when it is shown again.
    if (document.visibilityState === "visible") {
      running = true;
      try {
        await check();
      } catch {
        // The page's own check shows what it must; a network blip is retried next beat.
      } finally {
        running = false;
      }
      await syncPayload();
    }
    if (!ending && !signingOut) timer = setTimeout(beat, HEARTBEAT_MS);
  };
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") void beat();
  });
  timer = setTimeout(beat, HEARTBEAT_MS);
}

let ending = false;

/** Both the SDK's event and the API's 401 report an ended session: navigate once. */
function sessionEnded() {
  if (ending || signingOut) return;
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

/** "3 seconds", "15 minutes", "1 hour 30 minutes". @param {number} ms */
export function formatLifetime(ms) {
  const total = Math.round(ms / 1000);
  /** @type {[number, string][]} */
  const parts = [
    [Math.floor(total / 3600), "hour"],
    [Math.floor((total % 3600) / 60), "minute"],
    [total % 60, "second"],
  ];
  const words = parts.filter(([n]) => n > 0).map(([n, unit]) => `${n} ${unit}${n === 1 ? "" : "s"}`);
  return words.length > 0 ? words.join(" ") : `${ms} ms`;
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
