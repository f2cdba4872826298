// @ts-check
// The log-in and sign-up forms: both post a name and a password to the endpoint the form
// names, and the server answers with the session's cookies (set by latchkey) or a message.
import { api, element } from "./app.js";

const form = element("#auth-form", HTMLFormElement);
const error = element("#form-error", HTMLElement);
const submit = element("button[type=submit]", HTMLButtonElement, form);

async function start() {
  if (await supertokensSession.doesSessionExist()) {
    location.replace("/");
    return;
  }
  const query = new URLSearchParams(location.search);
  const notice = element("#notice", HTMLElement);
  if (query.has("ended")) notice.textContent = "You were signed out: this session was revoked or has expired. Log in again.";
  else if (query.has("signed-out")) notice.textContent = "You signed out. This device no longer has a session.";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = new FormData(form);
  error.textContent = "";
  submit.disabled = true;
  try {
    await api(String(form.dataset.endpoint), { method: "POST", body: { name: fields.get("name"), password: fields.get("password") } });
    location.assign("/");
  } catch (failure) {
    error.textContent = failure instanceof Error ? failure.message : "Something went wrong. Try again.";
    const password = element("input[name=password]", HTMLInputElement, form);
    password.value = "";
    password.focus();
  } finally {
    submit.disabled = false;
  }
});

start();
