// @ts-check
// Admin: the accounts, for sessions whose role claim includes "admin". The menu shows
// the page from the front token's roles, but the server decides: /api/admin/accounts is
// guarded by Roles.validators.includes("admin") and answers 403 "invalid claim" otherwise.
// The page asks it again every few seconds (its heartbeat), so a role granted or removed
// on another device opens or closes it here within seconds.
import { ApiError, api, element, messageOf, onPayload, requireSession, rolesIn, showTime } from "./app.js";

/** @typedef {{ name: string, createdAt: number, roles: string[], you: boolean }} Account */

const denied = element("#denied", HTMLElement);
const card = element("#accounts-card", HTMLElement);
const rows = element("#accounts", HTMLTableSectionElement);
let open = false;
let everOpen = false;

async function check() {
  try {
    /** @type {{ accounts: Account[] }} */
    const { accounts } = await api("/api/admin/accounts");
    rows.replaceChildren(...accounts.map(row));
    element("#accounts-updated", HTMLElement).textContent = `Updated ${new Date().toLocaleTimeString()}.`;
    open = everOpen = true;
    card.hidden = false;
    denied.hidden = true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) close();
    else if (open) element("#accounts-updated", HTMLElement).textContent = `Could not update the list (${messageOf(error)}); trying again.`;
    else {
      denied.hidden = false;
      denied.textContent = `Could not load the accounts (${messageOf(error)}); trying again.`;
    }
  }
}

/** No admin role (any more): hide what the page showed. */
function close() {
  open = false;
  card.hidden = true;
  rows.replaceChildren();
  denied.hidden = false;
  denied.textContent = everOpen
    ? "Your admin role was removed, so this page is closed. Make yourself admin again on the dashboard and it reopens here."
    : "This page is for admins. Make yourself one on the dashboard (a demo toggle) and it opens here within seconds.";
}

/** @param {Account} account */
function row(account) {
  const tr = document.createElement("tr");
  const name = document.createElement("td");
  name.textContent = account.name;
  if (account.you) name.append(" ", Object.assign(document.createElement("span"), { className: "pill", textContent: "you" }));
  const roles = document.createElement("td");
  if (account.roles.length === 0) roles.append(Object.assign(document.createElement("span"), { className: "muted", textContent: "none" }));
  for (const role of account.roles) roles.append(Object.assign(document.createElement("span"), { className: "pill role", textContent: role }), " ");
  const since = document.createElement("td");
  const time = document.createElement("time");
  showTime(time, account.createdAt);
  since.append(time);
  tr.append(name, roles, since);
  return tr;
}

async function start() {
  if (!(await requireSession({ heartbeat: check }))) return;
  await check();
  // A token without the role (re-signed by any request) closes the page at once; one
  // with it asks the server, which has the last word.
  onPayload((payload) => {
    const admin = rolesIn(payload).includes("admin");
    if (!admin && open) close();
    if (admin && !open) void check();
  });
  element("#main", HTMLElement).removeAttribute("aria-busy");
}

start();
