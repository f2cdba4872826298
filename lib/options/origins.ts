import { describe } from "../check";

/** The `trustedOrigins` option as a test of an origin (as the request sent it). */
export function trustedOrigins(value: unknown): (origin: string) => boolean {
  if (typeof value === "function") {
    const decide = value as (origin: string) => unknown;
    return (origin) => {
      const normalised = normaliseOrigin(origin);
      return normalised !== undefined && decide(normalised) === true;
    };
  }
  if (!Array.isArray(value)) {
    throw new TypeError(
      `latchkey: option trustedOrigins must be an array of origins such as ["https://app.example.com"], RegExps, or a function (got ${describe(value)}).`,
    );
  }
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const item of value) {
    if (item instanceof RegExp) {
      if (!isAnchored(item.source)) {
        throw new TypeError(
          `latchkey: option trustedOrigins lists the RegExp ${String(item)}, which is not anchored: it matches inside a longer origin ` +
            `(a pattern for https://app.example.com would also trust https://app.example.com.evil.test). ` +
            `Anchor every alternative with ^ and $, e.g. /^https:\\/\\/app\\.example\\.com$/.`,
        );
      }
      // A global or sticky RegExp keeps state between test() calls: it would trust an origin every other time.
      patterns.push(new RegExp(item.source, item.flags.replace(/[gy]/g, "")));
      continue;
    }
    if (typeof item === "string" && item.includes("*")) {
      throw new TypeError(
        `latchkey: option trustedOrigins lists ${JSON.stringify(item)}, but a string matches one origin exactly and "*" matches nothing. ` +
          "Use a RegExp, e.g. /^https:\\/\\/[a-z0-9-]+\\.example\\.com$/, or a function.",
      );
    }
    const url = typeof item === "string" ? parseUrl(item) : undefined;
    const origin = url && !url.username && !url.password && url.pathname === "/" && !url.search && !url.hash ? normaliseOrigin(item) : undefined;
    if (origin === undefined) {
      throw new TypeError(
        `latchkey: option trustedOrigins must list origins (scheme://host[:port], no path) such as "https://app.example.com" (got ${describe(item)}).`,
      );
    }
    exact.add(origin);
  }
  return (origin) => {
    const normalised = normaliseOrigin(origin);
    return normalised !== undefined && (exact.has(normalised) || patterns.some((pattern) => pattern.test(normalised)));
  };
}

/**
 * Whether a pattern matches whole origins only: every top-level alternative starts with `^`
 * and ends with an unescaped `$`. Anything looser trusts origins that merely contain a
 * trusted one.
 */
function isAnchored(source: string): boolean {
  const alternatives: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === "\\") {
      i++;
    } else if (inClass) {
      if (char === "]") inClass = false;
    } else if (char === "[") {
      inClass = true;
    } else if (char === "(") {
      depth++;
    } else if (char === ")") {
      depth--;
    } else if (char === "|" && depth === 0) {
      alternatives.push(source.slice(start, i));
      start = i + 1;
    }
  }
  alternatives.push(source.slice(start));
  return alternatives.every((alternative) => alternative.startsWith("^") && endsWithAnchor(alternative));
}

function endsWithAnchor(pattern: string): boolean {
  if (!pattern.endsWith("$")) return false;
  let backslashes = 0;
  for (let i = pattern.length - 2; i >= 0 && pattern[i] === "\\"; i--) backslashes++;
  return backslashes % 2 === 0;
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** An origin with scheme and host in lower case and the default port dropped; `undefined` for anything else. */
export function normaliseOrigin(origin: string): string | undefined {
  // "null" (sandboxed frames, file://) and garbage are no origin at all.
  const url = parseUrl(origin);
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) return undefined;
  return url.origin;
}
