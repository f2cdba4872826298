import mysql from "mysql2/promise";
import { memoryStore } from "../lib";
import { hashRefreshToken } from "../lib/tokens/refresh";
import { accessCookie, createApp, DATABASE_URL, describeEachStore, fakeClock, login, refreshCookie, request, sha256, tokensOf } from "./helpers";
import type { Response } from "supertest";

/**
 * Runs the main flows and the failure paths with a capturing logger, then asserts that
 * no token, token hash, key or password appears in any log line or response body.
 */
describeEachStore("secrets never leak", (stores) => {
  it("keeps tokens, hashes, keys and passwords out of logs and response bodies", async () => {
    const lines: string[] = [];
    const logger = {
      warn: (message: string) => lines.push(message),
      error: (message: string, error?: unknown) => lines.push(`${message} ${error instanceof Error ? `${error.message} ${error.stack}` : ""}`),
    };
    const clock = fakeClock();
    const store = stores.create();
    const { app } = createApp({ store, logger, clock: clock.now });
    const bodies: string[] = [];
    const keep = (res: Response) => {
      bodies.push(res.text ?? "");
      return res;
    };

    const first = await login(app, "user-1", { data: { password: "hunter2-in-session-data" } });
    bodies.push(first.res.text);
    const rotated = tokensOf(keep(await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(first.refresh))));
    clock.advance(60_000);
    keep(await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(first.refresh))); // theft
    keep(await request(app).get("/api/me").set("Cookie", accessCookie(rotated.access)));
    keep(await request(app).get("/api/me").set("Cookie", accessCookie(`${first.access}x`)));
    keep(await request(app).post("/auth/signout").set("Cookie", accessCookie(rotated.access)));
    keep(await request(app).get("/auth/jwt/jwks.json"));

    // A store whose database is down, with a password in its URL.
    const down = createApp({ store: "mysql://root:S3cretPassw0rd@127.0.0.1:1/test", logger });
    keep(await request(down.app).post("/login").send({ userId: "u" }));

    const keys = await store.listSigningKeys();
    const secrets = [
      first.access,
      first.refresh,
      rotated.access,
      rotated.refresh,
      first.refresh.split(".")[1] as string, // the lineage
      first.refresh.split(".")[2] as string, // the secret
      hashRefreshToken(first.refresh).toString("hex"),
      hashRefreshToken(first.refresh).toString("base64"),
      ...keys.map((key) => key.privateKey.split("\n")[1] as string),
      "S3cretPassw0rd",
      "hunter2-in-session-data",
    ];
    expect(lines.length).toBeGreaterThan(0); // the theft warning and the store failures were logged
    for (const secret of secrets) {
      for (const text of [...lines, ...bodies]) expect(text.includes(secret) ? `leaked in: ${text.slice(0, 80)}` : "clean").toBe("clean");
    }
  });

  it("#4 stores only SHA-256 of the refresh token: no column holds the token or its secret", async () => {
    const prefix = stores.newPrefix();
    const store = stores.create(prefix);
    const { app } = createApp({ store });
    const { refresh, handle } = await login(app, "user-1");
    // Neither the 256-bit secret nor the 128-bit lineage may be stored as it is (the lineage only as a hash).
    const [, lineage, secret] = refresh.split(".") as [string, string, string];
    const row = await store.findSession(handle);
    expect(row?.refreshTokenHash.toString("hex")).toBe(sha256(refresh).toString("hex"));

    const texts: string[] = [];
    const collect = (value: unknown) => {
      if (Buffer.isBuffer(value)) texts.push(value.toString("hex"), value.toString("base64url"), value.toString("latin1"));
      else texts.push(typeof value === "string" ? value : JSON.stringify(value) ?? "");
    };
    if (stores.kind === "mysql") {
      const connection = await mysql.createConnection({ uri: DATABASE_URL });
      try {
        for (const table of ["sessions", "signing_keys", "secrets"]) {
          const [rows] = await connection.query(`SELECT * FROM \`${prefix}${table}\``);
          for (const stored of rows as Record<string, unknown>[]) Object.values(stored).forEach(collect);
        }
      } finally {
        await connection.end();
      }
    } else {
      Object.values(row ?? {}).forEach(collect);
    }
    const pieces = [refresh, secret, lineage, Buffer.from(secret, "base64url").toString("hex"), Buffer.from(lineage, "base64url").toString("hex")];
    for (const text of texts) {
      expect(pieces.filter((piece) => text.includes(piece))).toEqual([]);
    }
    expect(row?.lineageHash?.toString("hex")).toBe(sha256(lineage).toString("hex"));
  });

  it("#6 the refresh-successor HMAC key is 32 random bytes generated per deployment", async () => {
    const secrets: Buffer[] = [];
    for (let i = 0; i < 2; i++) {
      const store = stores.create();
      await login(createApp({ store }).app);
      // The key already exists, so this returns it and ignores the all-zero candidate.
      secrets.push(await store.getOrCreateSecret("refresh-successor", Buffer.alloc(32)));
    }
    for (const secret of secrets) {
      expect(secret.length).toBe(32);
      expect(secret.equals(Buffer.alloc(32))).toBe(false);
    }
    expect(secrets[0]!.equals(secrets[1]!)).toBe(false);
  });
});

describe("refresh-token entropy [memory store]", () => {
  it("#1 refresh-token secrets are 256 bits from crypto.randomBytes, unique, with balanced bits", async () => {
    const { app } = createApp({ store: memoryStore() });
    const secrets: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const { refresh } = await login(app, `user-${i}`);
      secrets.push(Buffer.from(refresh.split(".")[2] as string, "base64url"));
    }
    expect(new Set(secrets.map((secret) => secret.length))).toEqual(new Set([32]));
    expect(new Set(secrets.map((secret) => secret.toString("hex"))).size).toBe(secrets.length);
    // No two share their first 4 bytes (a pair would, by chance, about once in 10^5 runs).
    expect(new Set(secrets.map((secret) => secret.subarray(0, 4).toString("hex"))).size).toBe(secrets.length);

    // Monobit over all 51,200 bits within 4σ, and each of the 256 bit positions within 5σ.
    const perPosition = new Array<number>(256).fill(0);
    for (const secret of secrets) {
      for (let bit = 0; bit < 256; bit++) perPosition[bit]! += (secret[bit >> 3]! >> (7 - (bit & 7))) & 1;
    }
    const ones = perPosition.reduce((sum, count) => sum + count, 0);
    const total = secrets.length * 256;
    expect(Math.abs(ones - total / 2)).toBeLessThan(4 * (Math.sqrt(total) / 2));
    for (const count of perPosition) expect(Math.abs(count - secrets.length / 2)).toBeLessThan(5 * (Math.sqrt(secrets.length) / 2));

    // The secret comes from crypto.randomBytes: stubbing it makes the token predictable.
    const nodeCrypto = require("node:crypto") as typeof import("node:crypto");
    const spy = jest.spyOn(nodeCrypto, "randomBytes").mockImplementation(((size: number) => Buffer.alloc(size, 7)) as never);
    try {
      const { refresh } = await login(app, "stubbed");
      // <handle>.<lineage: randomBytes(16)>.<secret: randomBytes(32)>
      expect(refresh.split(".").slice(1)).toEqual([Buffer.alloc(16, 7).toString("base64url"), Buffer.alloc(32, 7).toString("base64url")]);
    } finally {
      spy.mockRestore();
    }
  });
});
