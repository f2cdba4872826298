// Calls a protected route; on 401 it refreshes once (what the SuperTokens SDK does for you).
async function api(path, init) {
  let res = await fetch(path, init);
  if (res.status === 401) {
    const refreshed = await fetch("/auth/session/refresh", { method: "POST" });
    if (refreshed.ok) res = await fetch(path, init);
  }
  return res;
}

async function showMe() {
  const res = await api("/api/me");
  const signedIn = res.ok;
  document.getElementById("login").hidden = signedIn;
  document.getElementById("dashboard").hidden = !signedIn;
  if (signedIn) document.getElementById("me").textContent = JSON.stringify(await res.json(), null, 2);
}

document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const res = await fetch("/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name: form.get("name"), password: form.get("password") }),
  });
  document.getElementById("error").textContent = res.ok ? "" : (await res.json()).message;
  if (res.ok) await showMe();
});

document.getElementById("reload").addEventListener("click", showMe);
document.getElementById("signout").addEventListener("click", async () => {
  await api("/auth/signout", { method: "POST" });
  await showMe();
});

showMe();
