import { createApp, describeEachStore, request } from "./helpers";

/** A logger that keeps its warnings. */
function warnings() {
  const lines: string[] = [];
  return { lines, logger: { warn: (message: string) => void lines.push(message), error: (message: string) => void lines.push(message) } };
}

// Issue 22 item 4: nginx's default proxy_set_header Host $proxy_host sends the upstream's
// name, so every login from the site's own pages looked cross-origin (403), and the log
// advised trustedOrigins. The warning names the Host the app saw and the header to forward.
describeEachStore("behind a reverse proxy", (stores) => {
  it("a refusal whose Origin differs from the request's Host names that Host and the header to forward", async () => {
    const log = warnings();
    const { app } = createApp({ store: stores.create(), logger: log.logger });
    const res = await request(app).post("/login").set("Host", "127.0.0.1:3000").set("Origin", "https://shop.example.com").send({ userId: "user-1" });
    expect([res.status, res.body]).toEqual([403, { message: "cross-origin request refused", code: "CROSS_ORIGIN_REQUEST" }]);
    expect(log.lines).toEqual([
      'refused POST /login from origin "https://shop.example.com": it is neither this API\'s own origin nor in trustedOrigins; ' +
        'the request\'s Host was "127.0.0.1:3000": if a proxy sits in front, forward the Host header ' +
        "(nginx: proxy_set_header Host $host; or X-Forwarded-Host with trust proxy). " +
        'If that origin is your frontend on another host, add it: sessionMiddleware({ trustedOrigins: ["https://shop.example.com"] }). (Warned once per origin.)',
    ]);
  });

  it("names X-Forwarded-Host beside Host when the app trusts the proxy", async () => {
    const log = warnings();
    const { app } = createApp({ store: stores.create(), logger: log.logger });
    app.set("trust proxy", "loopback");
    await request(app)
      .post("/login")
      .set("Host", "127.0.0.1:3000")
      .set("X-Forwarded-Host", "api.example.com")
      .set("Origin", "https://shop.example.com")
      .send({ userId: "user-1" })
      .expect(403);
    expect(log.lines).toEqual([expect.stringContaining('the request\'s Host was "127.0.0.1:3000" (X-Forwarded-Host "api.example.com"): if a proxy sits in front')]);
  });

  it.each([
    ["the proxy forwards Host (proxy_set_header Host $host)", { Host: "shop.example.com" }, false],
    ["the proxy sends X-Forwarded-Host and the app trusts it", { Host: "127.0.0.1:3000", "X-Forwarded-Host": "shop.example.com" }, true],
  ] as const)("logs in when %s", async (_, headers, trustProxy) => {
    const log = warnings();
    const { app } = createApp({ store: stores.create(), logger: log.logger });
    if (trustProxy) app.set("trust proxy", "loopback");
    await request(app).post("/login").set(headers).set("Origin", "https://shop.example.com").send({ userId: "user-1" }).expect(200);
    expect(log.lines).toEqual([]);
  });
});
