import type { Session } from "../session";
import type { HttpRequest } from "./seam";

/** What an adapter knows of a request, resolved its framework's way. */
export interface RequestFields {
  method: string;
  /** The path from the site root, without the query string. */
  path: string;
  /** A header's value by lower-case name. */
  header(name: string): string | undefined;
  /** The client's IP as the framework resolves it (its proxy settings); `undefined` when unknown. */
  ip?: string | undefined;
  /** Whether the request came over TLS, as the framework resolves it. */
  secure: boolean;
  /** The `X-Forwarded-Host` to honour, only when the app trusts its proxy. */
  forwardedHost?: string | undefined;
  /** Where the session goes once verified or created (`ctx.state.session`, `request.session`…). */
  setSession?(session: Session): void;
}

/**
 * An {@link HttpRequest} from fields an adapter has already resolved: for frameworks whose
 * request is not Express's (Fastify, Koa, Hapi, a Lambda event, a WHATWG `Request`), and for
 * `getSessionFromHeaders`. latchkey parses the Cookie header itself (cookie-parser).
 */
export class FieldsRequest implements HttpRequest {
  readonly method: string;
  readonly #fields: RequestFields;

  constructor(fields: RequestFields) {
    this.method = fields.method.toUpperCase();
    this.#fields = fields;
  }

  path(): string {
    return this.#fields.path;
  }

  header(name: string): string | undefined {
    return this.#fields.header(name);
  }

  parsedCookies(): undefined {
    return undefined;
  }

  secure(): boolean {
    return this.#fields.secure;
  }

  forwardedHost(): string | undefined {
    return this.#fields.forwardedHost;
  }

  ip(): string | undefined {
    return this.#fields.ip;
  }

  setSession(session: Session): void {
    this.#fields.setSession?.(session);
  }
}

/**
 * A header reader over Node's `IncomingHttpHeaders` (lower-case names). A repeated header
 * arrives as an array only for a few names; the Cookie header (HTTP/2 may split it) joins
 * with "; ", anything else with ", ", as Node joins them itself.
 */
export function nodeHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): (name: string) => string | undefined {
  return (name) => {
    const value = headers[name];
    if (value === undefined || typeof value === "string") return value;
    return value.join(name === "cookie" ? "; " : ", ");
  };
}
