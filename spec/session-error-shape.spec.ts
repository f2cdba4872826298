import express from "express";
import Koa from "koa";
import { SessionError, SESSION_ERRORS, type SessionErrorCode } from "../lib";
import { request } from "./helpers";

// The http-errors shape (issue 20 item 5): a framework's own default error handler, reached
// when an app forgot latchkey's (errorHandler(), the NestJS filter, ...), still answers a
// SessionError with latchkey's status, and exposes the message of a 4xx only.
describe("SessionError's http-errors shape", () => {
  const CODES = Object.keys(SESSION_ERRORS) as SessionErrorCode[];

  it.each(CODES)("%s has statusCode equal to status, and expose for a 4xx only", (code) => {
    const error = new SessionError(code);
    expect({ statusCode: error.statusCode, expose: error.expose }).toEqual({ statusCode: SESSION_ERRORS[code].status, expose: SESSION_ERRORS[code].status < 500 });
  });

  it.each(CODES)("Koa's default handler answers %s with latchkey's status", async (code) => {
    const app = new Koa();
    app.silent = true;
    app.use(() => {
      throw new SessionError(code);
    });
    const server = app.listen(0, "127.0.0.1");
    try {
      const res = await request(server).get("/");
      const { status, message } = SESSION_ERRORS[code];
      // Koa shows an exposed error's message, and only the status text of a 5xx.
      expect([res.status, res.text]).toEqual([status, status < 500 ? message : "Service Unavailable"]);
    } finally {
      server.close();
    }
  });

  it.each(CODES)("Express's final handler answers %s with latchkey's status", async (code) => {
    const app = express();
    app.get("/", () => {
      throw new SessionError(code);
    });
    // Express's own handler logs the stack unless env is "test"; keep the test output clean.
    app.set("env", "test");
    const res = await request(app).get("/");
    expect(res.status).toBe(SESSION_ERRORS[code].status);
  });
});
