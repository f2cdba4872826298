import type { Diagnostics } from "../logger";
import { normaliseOrigin } from "../options/origins";
import type { ResolvedOptions } from "../options/resolve";
import type { HttpRequest } from "./seam";

const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * CSRF defence for requests authenticated by cookie, and for logins that will set cookies
 * (DESIGN §2, §6.1). SameSite=Lax already keeps cookies off cross-site POSTs in current
 * browsers; this check covers what it does not: same-site attackers (a sibling
 * subdomain), older browsers, `SameSite=None` deployments, and login CSRF (a login needs
 * no cookie). Returns why the request is refused, or `undefined` to let it through.
 */
export function csrfFailure(req: HttpRequest, options: ResolvedOptions): string | undefined {
  if (options.antiCsrf === "none" || SAFE_METHODS.has(req.method)) return undefined;
  const foreign = originFailure(req, options);
  if (foreign !== undefined) return foreign;
  // A custom header cannot be sent cross-origin without a CORS preflight the API
  // would have to approve: with SameSite=None it is the defence that remains.
  const needsRid = options.antiCsrf === "custom-header" || options.cookieSameSite === "none";
  if (needsRid && req.header("rid") === undefined) return "missing rid header";
  return undefined;
}

/**
 * The origin half of the check, whatever the method: a foreign `Origin`, or a browser's
 * `Sec-Fetch-Site: cross-site` without one. Also what refuses a cross-site WebSocket
 * handshake (a GET a page on any site can open with the victim's cookies).
 */
export function originFailure(req: HttpRequest, options: ResolvedOptions): string | undefined {
  const origin = req.header("origin");
  if (origin !== undefined) return isTrustedOrigin(origin, req, options) ? undefined : "cross-origin request";
  return req.header("sec-fetch-site") === "cross-site" ? "cross-site request" : undefined;
}

/**
 * Says why a request was refused: once per origin as a warning naming the option that
 * would allow it (a forgotten `trustedOrigins` otherwise looks like users signed out for
 * no reason), and every time with `debug`.
 */
export function reportCsrfFailure(diagnostics: Diagnostics, req: HttpRequest, reason: string): void {
  const origin = req.header("origin");
  const where = `${req.method} ${req.path()}`;
  if (reason === "cross-origin request" && typeof origin === "string") {
    const shown = JSON.stringify(origin.slice(0, 200));
    diagnostics.warnOnce(
      `csrf:${origin.slice(0, 200)}`,
      `refused ${where} from origin ${shown}: it is neither this API's own origin nor in trustedOrigins${proxyHint(req, origin)}. ` +
        `If that origin is your frontend on another host, add it: sessionMiddleware({ trustedOrigins: [${shown}] }). (Warned once per origin.)`,
      { code: "CROSS_ORIGIN_REQUEST", reason, origin: origin.slice(0, 200), host: req.header("host")?.slice(0, 200), method: req.method, path: req.path() },
    );
  } else if (reason === "missing rid header") {
    diagnostics.warnOnce(
      "csrf:rid",
      `refused ${where}: cookie-authenticated unsafe requests must carry the rid header (SameSite=None or antiCsrf: "custom-header"); ` +
        "the SuperTokens SDK sends it. (Warned once.)",
    );
  }
  diagnostics.debug(`refused ${where}: ${reason}`);
}

// A proxy that does not pass the browser's Host on (nginx's default sends its upstream's
// name) makes every same-site request look cross-origin: name the Host the app saw, and
// the header to forward, before suggesting trustedOrigins (issue 22).
function proxyHint(req: HttpRequest, origin: string): string {
  const normalised = normaliseOrigin(origin);
  const host = req.header("host");
  if (normalised === undefined || new URL(normalised).host === host?.toLowerCase()) return "";
  const forwarded = req.forwardedHost();
  return (
    `; the request's Host was ${host === undefined ? "missing" : JSON.stringify(host.slice(0, 200))}` +
    (forwarded === undefined ? "" : ` (X-Forwarded-Host ${JSON.stringify(forwarded.slice(0, 200))})`) +
    ": if a proxy sits in front, forward the Host header (nginx: proxy_set_header Host $host; or X-Forwarded-Host with trust proxy)"
  );
}

function isTrustedOrigin(origin: string, req: HttpRequest, options: ResolvedOptions): boolean {
  if (options.trustedOrigin(origin)) return true;
  const normalised = normaliseOrigin(origin);
  if (normalised === undefined) return false;
  // The API's own origin, by host and port. The scheme is left out on purpose: behind a
  // TLS-terminating proxy that the app does not trust, the framework sees http while the
  // browser says https. Host names compare case-insensitively, as browsers treat them.
  const host = new URL(normalised).host;
  if (host === req.header("host")?.toLowerCase()) return true;
  return host === req.forwardedHost()?.toLowerCase();
}
