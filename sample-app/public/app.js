// Shared by every page: the SuperTokens SDK (automatic refresh on 401, multi-tab locking,
// sign-out) and a few helpers. Pages call `api()` like fetch; the SDK intercepts it.
supertokens.init({
  appInfo: { appName: "latchkey sample", apiDomain: window.location.origin, apiBasePath: "/auth" },
  recipeList: [
    supertokensSession.init({
      onHandleEvent: (event) => {
        if (event.action === "REFRESH_SESSION") {
          const count = Number(sessionStorage.getItem("refreshes") ?? 0) + 1;
          sessionStorage.setItem("refreshes", String(count));
          document.dispatchEvent(new CustomEvent("session-refreshed", { detail: count }));
        }
      },
    }),
  ],
});

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { "content-type": "application/json", ...(init.headers ?? {}) } });
  const body = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
  return { ok: res.ok, status: res.status, body };
}

async function requireSession() {
  if (!(await supertokensSession.doesSessionExist())) {
    window.location.replace("/");
    return false;
  }
  return true;
}

async function signOut() {
  await supertokensSession.signOut();
  window.location.replace("/");
}

function when(ms) {
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

document.querySelector("[data-sign-out]")?.addEventListener("click", signOut);
