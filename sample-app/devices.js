// @ts-check
// A readable name for a session's device, from its user agent ("Firefox on macOS").
const BROWSERS = [
  [/Edg\//, "Edge"],
  [/OPR\//, "Opera"],
  [/HeadlessChrome\//, "Headless Chrome"],
  [/Chrome\//, "Chrome"],
  [/Firefox\//, "Firefox"],
  [/Version\/[\d.]+ .*Safari\//, "Safari"],
  [/curl\//, "curl"],
];
const SYSTEMS = [
  [/Windows NT/, "Windows"],
  [/iPhone|iPad/, "iOS"],
  [/Mac OS X/, "macOS"],
  [/Android/, "Android"],
  [/CrOS/, "ChromeOS"],
  [/Linux/, "Linux"],
];

/** @param {string | null} userAgent */
function describeDevice(userAgent) {
  if (!userAgent) return "Unknown device";
  const browser = BROWSERS.find(([pattern]) => /** @type {RegExp} */ (pattern).test(userAgent))?.[1] ?? "Unknown browser";
  const system = SYSTEMS.find(([pattern]) => /** @type {RegExp} */ (pattern).test(userAgent))?.[1];
  return system ? `${browser} on ${system}` : String(browser);
}

module.exports = { describeDevice };
