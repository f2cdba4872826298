// @ts-check
// "Firefox 128 on Windows" from a User-Agent header: enough to tell your devices apart,
// not a full parser. Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".

/** @type {[RegExp, string][]} */
const BROWSERS = [
  [/Edg(?:e|A|iOS)?\/(\d+)/, "Edge"],
  [/(?:OPR|Opera)\/(\d+)/, "Opera"],
  [/SamsungBrowser\/(\d+)/, "Samsung Internet"],
  [/(?:Firefox|FxiOS)\/(\d+)/, "Firefox"],
  [/(?:HeadlessChrome|Chrome|CriOS)\/(\d+)/, "Chrome"],
  [/Version\/(\d+)[.\d]* (?:Mobile\/\S+ )?Safari\//, "Safari"],
];

/** @type {[RegExp, string][]} */
const SYSTEMS = [
  [/Windows NT/, "Windows"],
  [/iPhone|iPad|iPod/, "iOS"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/Android/, "Android"],
  [/CrOS/, "ChromeOS"],
  [/Linux|X11/, "Linux"],
];

/**
 * @param {string | null} userAgent
 * @returns {{ name: string, mobile: boolean }}
 */
function describeDevice(userAgent) {
  const ua = userAgent ?? "";
  let browser;
  for (const [pattern, name] of BROWSERS) {
    const match = pattern.exec(ua);
    if (match) {
      browser = `${name} ${match[1]}`;
      break;
    }
  }
  const os = SYSTEMS.find(([pattern]) => pattern.test(ua))?.[1];
  const name = browser || os ? `${browser ?? "A browser"} on ${os ?? "an unknown system"}` : "Unknown device";
  return { name, mobile: /Mobi|iPhone|iPod|Android/.test(ua) };
}

/**
 * "::ffff:127.0.0.1" (an IPv4 client on a dual-stack socket) reads better as "127.0.0.1".
 * @param {string | null} ip
 */
function displayIp(ip) {
  if (!ip) return "unknown";
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

module.exports = { describeDevice, displayIp };
