import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { SessionError, type CreateSessionOptions, type SessionMiddlewareOptions } from "../../../lib";
import { lambdaSessions } from "../../../lib/frameworks/lambda";
import type { FrameworkApp, FrameworkDriver } from "../driver";
import { ROLES_CLAIM } from "../roles";
import { runningApp } from "./running";

type Shape = "v1" | "v2";
type Result = APIGatewayProxyResult | APIGatewayProxyStructuredResultV2;
type Invoke = (event: APIGatewayProxyEvent & APIGatewayProxyEventV2, context: Context) => Promise<Result>;

/**
 * The Lambda functions of the framework conformance suite, written as docs/frameworks/lambda.md
 * tells users: one function per route, as API Gateway routes them (`middleware()` alone for
 * `ANY /auth/{proxy+}`, `middleware(handler)` for the login, `verifySession(handler, options?)`
 * for guarded routes). A plain Node server on 127.0.0.1 plays API Gateway: it turns each HTTP
 * request into a payload 1.0 (REST API) or 2.0 (HTTP API) event as API Gateway does, invokes the
 * function of its route, and turns the result back into HTTP the way API Gateway reads it.
 */
function lambdaDriver(shape: Shape): FrameworkDriver {
  return {
    name: `lambda ${shape}`,
    apiBasePath: "/auth",
    async start(options: SessionMiddlewareOptions): Promise<FrameworkApp> {
      const sessions = lambdaSessions(options);
      const json = (body: unknown) => ({ statusCode: 200, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const routes = new Map<string, unknown>([
        [
          "POST /login",
          sessions.middleware(async (event) => {
            const body = JSON.parse(event.body ?? "{}") as CreateSessionOptions & { userId: string };
            const { userId, rememberMe, sessionTtl, accessTokenPayload, reauthenticate } = body;
            const session = await event.createSession(userId, { rememberMe, sessionTtl, accessTokenPayload, reauthenticate });
            return json({ handle: session.handle });
          }),
        ],
        ["GET /api/me", sessions.verifySession(async (event) => json({ userId: event.session.userId, handle: event.session.handle }))],
        ["GET /api/optional", sessions.verifySession(async (event) => json({ userId: event.session?.userId ?? null }), { sessionRequired: false })],
        ["GET /api/strict", sessions.verifySession(async (event) => json({ userId: event.session.userId }), { checkDatabase: true })],
        ["POST /api/me", sessions.verifySession(async (event) => json({ userId: event.session.userId }))],
        [
          "GET /api/admin",
          sessions.verifySession(async (event) => json({ userId: event.session.userId }), {
            overrideGlobalClaimValidators: (globals) => [...globals, ROLES_CLAIM.validators.includes("admin")],
          }),
        ],
        [
          "POST /api/payload",
          sessions.verifySession(async (event) => {
            await event.session.mergeIntoAccessTokenPayload(JSON.parse(event.body ?? "{}"));
            return json({});
          }),
        ],
        [
          "GET /api/boom",
          sessions.verifySession(async () => {
            throw new SessionError("STORE_UNAVAILABLE");
          }),
        ],
      ]);
      const auth = sessions.middleware();
      const route = (method: string, path: string) => (routes.get(`${method} ${path}`) ?? (path.startsWith("/auth/") ? auth : undefined)) as Invoke | undefined;

      const server = createServer((req, res) => {
        serve(shape, route, req, res).catch((error: unknown) => {
          // What API Gateway answers when the function fails.
          if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
          res.end(JSON.stringify({ message: "Internal server error", error: String(error) }));
        });
      });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
      });
      return runningApp(server, sessions);
    },
  };
}

export const lambdaV1Driver = lambdaDriver("v1");
export const lambdaV2Driver = lambdaDriver("v2");

async function serve(shape: Shape, route: (method: string, path: string) => Invoke | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = chunks.length > 0 ? Buffer.concat(chunks).toString("utf8") : null;
  const url = new URL(req.url ?? "/", "http://localhost");
  const fn = route(req.method ?? "GET", url.pathname);
  if (!fn) {
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "Not Found" }));
    return;
  }
  const event = shape === "v1" ? eventV1(req, url, body) : eventV2(req, url, body);
  const result = await fn(event as APIGatewayProxyEvent & APIGatewayProxyEventV2, { awsRequestId: randomUUID() } as Context);
  if (shape === "v1") writeV1(res, result as APIGatewayProxyResult);
  else writeV2(res, result as APIGatewayProxyStructuredResultV2);
}

// The headers as the client spelt them, plus what API Gateway adds. The listener is plain
// HTTP, so X-Forwarded-Proto says http (API Gateway, which serves only HTTPS, says https).
function clientHeaders(req: IncomingMessage): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  pairs.push(["X-Forwarded-For", req.socket.remoteAddress ?? ""], ["X-Forwarded-Proto", "http"], ["X-Forwarded-Port", String(req.socket.localPort)]);
  return pairs;
}

/** A REST API (payload 1.0) event: `headers` holds each name's last value, `multiValueHeaders` all of them; the stage is in `requestContext.path` only. */
function eventV1(req: IncomingMessage, url: URL, body: string | null): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of clientHeaders(req)) {
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query = [...url.searchParams.keys()];
  return {
    resource: "/{proxy+}",
    path: url.pathname,
    httpMethod: req.method ?? "GET",
    headers,
    multiValueHeaders,
    queryStringParameters: query.length > 0 ? Object.fromEntries(url.searchParams) : null,
    multiValueQueryStringParameters: query.length > 0 ? Object.fromEntries(query.map((key) => [key, url.searchParams.getAll(key)])) : null,
    pathParameters: { proxy: url.pathname.slice(1) },
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: "123456789012",
      apiId: "local",
      authorizer: undefined,
      httpMethod: req.method ?? "GET",
      path: `/test${url.pathname}`,
      stage: "test",
      protocol: "HTTP/1.1",
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: "local",
      resourcePath: "/{proxy+}",
      identity: { sourceIp: req.socket.remoteAddress ?? "", userAgent: req.headers["user-agent"] ?? null } as APIGatewayProxyEvent["requestContext"]["identity"],
    },
  };
}

/** An HTTP API (payload 2.0) event: lower-case headers, repeats comma-joined, cookies moved to `cookies`. */
function eventV2(req: IncomingMessage, url: URL, body: string | null): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of clientHeaders(req)) {
    const lower = name.toLowerCase();
    if (lower === "cookie") cookies.push(...value.split(";").map((item) => item.trim()).filter(Boolean));
    else headers[lower] = headers[lower] === undefined ? value : `${headers[lower]},${value}`;
  }
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    body: body ?? undefined,
    isBase64Encoded: false,
    requestContext: {
      accountId: "123456789012",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: "local",
      http: { method: req.method ?? "GET", path: url.pathname, protocol: "HTTP/1.1", sourceIp: req.socket.remoteAddress ?? "", userAgent: headers["user-agent"] ?? "" },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
  if (cookies.length > 0) event.cookies = cookies;
  return event;
}

// API Gateway merges the two maps; a name in multiValueHeaders takes its values from there.
function writeV1(res: ServerResponse, result: APIGatewayProxyResult): void {
  const multi = new Map(Object.entries(result.multiValueHeaders ?? {}).map(([name, values]) => [name.toLowerCase(), values.map(String)]));
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    if (!multi.has(name.toLowerCase())) multi.set(name.toLowerCase(), [String(value)]);
  }
  for (const [name, values] of multi) res.setHeader(name, values.length === 1 && name !== "set-cookie" ? values[0]! : values);
  res.statusCode = result.statusCode;
  res.end(result.isBase64Encoded ? Buffer.from(result.body, "base64") : result.body);
}

function writeV2(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
  if (result.cookies && result.cookies.length > 0) res.setHeader("set-cookie", result.cookies);
  res.statusCode = result.statusCode ?? 200;
  const body = result.body ?? "";
  res.end(result.isBase64Encoded ? Buffer.from(body, "base64") : body);
}
