import type { Request } from "express";
import type { ResolvedOptions } from "./options";

const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * CSRF defence for requests authenticated by cookie (DESIGN §2). SameSite=Lax already
 * keeps cookies off cross-site POSTs in current browsers; this check covers what it
 * does not: same-site attackers (a sibling subdomain), older browsers, `SameSite=None`
 * deployments. Returns why the request is refused, or `undefined` to let it through.
 */
export function csrfFailure(req: Request, options: ResolvedOptions): string | undefined {
  if (options.antiCsrf === "none" || SAFE_METHODS.has(req.method)) return undefined;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    if (!isTrustedOrigin(origin, req, options)) return "cross-origin request";
  } else if (req.headers["sec-fetch-site"] === "cross-site") {
    return "cross-site request";
  }
  // A custom header cannot be sent cross-origin without a CORS preflight the API
  // would have to approve: with SameSite=None it is the defence that remains.
  const needsRid = options.antiCsrf === "custom-header" || options.cookieSameSite === "none";
  if (needsRid && req.headers.rid === undefined) return "missing rid header";
  return undefined;
}

function isTrustedOrigin(origin: string, req: Request, options: ResolvedOptions): boolean {
  if (options.trustedOrigins.has(origin)) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false; // "null" (sandboxed frames, file://) and garbage
  }
  // The API's own origin. The scheme is left out on purpose: behind a TLS-terminating
  // proxy that the app does not trust, Express sees http while the browser says https.
  if (host === req.headers.host) return true;
  const forwarded = req.headers["x-forwarded-host"];
  return typeof forwarded === "string" && Boolean(req.app.get("trust proxy")) && host === forwarded.split(",")[0]?.trim();
}
