// The client side of spec/rolling-upgrade.upgrade.spec.ts: browsers-like clients (a cookie
// jar each) that log in on one instance, then alternate verified GETs and refreshes on
// instances picked at random, and count every way a user could be signed out.

export interface Instance {
  name: string;
  url: string;
}

type Kind = "login" | "get" | "refresh";

export interface LoadFigures {
  clients: number;
  seconds: number;
  /** Requests per instance and kind. */
  requests: Record<string, Record<Kind, number>>;
  /** GETs answered 200 by an instance whose access token the other release signed: "issuer→verifier". */
  crossVerified: Record<string, number>;
  /** Refreshes answered 200 by an instance whose refresh token the other release issued: "issuer→refresher". */
  crossRefreshed: Record<string, number>;
  /** GETs answered 401 try refresh token (an expired access token: the SDK refreshes; no sign-out). */
  tryRefresh: number;
  /** The same refresh token sent to both instances at once (two tabs), and how many of those pairs got one successor. */
  parallelPairs: number;
  sameSuccessor: number;
  /** Any 401 unauthorised or token theft detected, and any response clearing a token cookie. */
  signOuts: number;
  /** Anything else unexpected (5xx, other statuses). */
  unexpected: number;
  /** The first few sign-outs and unexpected answers, to say what went wrong. */
  samples: string[];
}

interface Jar {
  access: string;
  refresh: string;
  /** The instance that issued each token. */
  accessBy: string;
  refreshBy: string;
}

interface Answer {
  status: number;
  body: { message?: string };
  cookies: Map<string, { value: string; cleared: boolean }>;
}

/** Runs `clients` clients against `instances` for `seconds`; resolves to what they saw. */
export async function rollingLoad(instances: readonly Instance[], options: { clients: number; seconds: number }): Promise<LoadFigures> {
  const figures: LoadFigures = {
    clients: options.clients,
    seconds: options.seconds,
    requests: Object.fromEntries(instances.map((i) => [i.name, { login: 0, get: 0, refresh: 0 }])),
    crossVerified: {},
    crossRefreshed: {},
    tryRefresh: 0,
    parallelPairs: 0,
    sameSuccessor: 0,
    signOuts: 0,
    unexpected: 0,
    samples: [],
  };
  const pick = () => instances[Math.floor(Math.random() * instances.length)] as Instance;
  const deadline = Date.now() + options.seconds * 1000;

  async function call(kind: Kind, instance: Instance, jar: Jar | undefined, userId: string): Promise<Answer> {
    figures.requests[instance.name]![kind]++;
    const init: RequestInit =
      kind === "login"
        ? { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userId }) }
        : kind === "get"
          ? { headers: { cookie: `sAccessToken=${jar!.access}` } }
          : { method: "POST", headers: { cookie: `sRefreshToken=${jar!.refresh}` } };
    const path = kind === "login" ? "/login" : kind === "get" ? "/api/me" : "/auth/session/refresh";
    const res = await fetch(instance.url + path, init);
    const answer: Answer = { status: res.status, body: (await res.json().catch(() => ({}))) as Answer["body"], cookies: parseCookies(res.headers.getSetCookie()) };
    const cleared = [...answer.cookies].filter(([, cookie]) => cookie.cleared).map(([name]) => name);
    const signedOut = (answer.status === 401 && answer.body.message !== "try refresh token") || cleared.length > 0;
    if (signedOut) figures.signOuts++;
    else if (answer.status !== 200 && !(kind === "get" && answer.status === 401)) figures.unexpected++;
    if ((signedOut || answer.status >= 500 || (answer.status !== 200 && answer.status !== 401)) && figures.samples.length < 10) {
      figures.samples.push(`${kind} on ${instance.name}: ${answer.status} ${JSON.stringify(answer.body)}${cleared.length ? ` cleared ${cleared.join(", ")}` : ""}`);
    }
    return answer;
  }

  function take(jar: Jar, answer: Answer, by: string): void {
    const access = answer.cookies.get("sAccessToken");
    const refresh = answer.cookies.get("sRefreshToken");
    if (access && !access.cleared) Object.assign(jar, { access: access.value, accessBy: by });
    if (refresh && !refresh.cleared) Object.assign(jar, { refresh: refresh.value, refreshBy: by });
  }

  const cross = (map: Record<string, number>, from: string, to: string) => {
    if (from !== to) map[`${from}→${to}`] = (map[`${from}→${to}`] ?? 0) + 1;
  };

  async function refresh(jar: Jar, instance: Instance, userId: string): Promise<void> {
    const answer = await call("refresh", instance, jar, userId);
    if (answer.status === 200) cross(figures.crossRefreshed, jar.refreshBy, instance.name);
    take(jar, answer, instance.name);
  }

  async function client(n: number): Promise<void> {
    const userId = `rolling-${n}`;
    const first = instances[n % instances.length] as Instance;
    const jar: Jar = { access: "", refresh: "", accessBy: first.name, refreshBy: first.name };
    take(jar, await call("login", first, undefined, userId), first.name);
    for (let round = 0; Date.now() < deadline; round++) {
      const verifier = pick();
      const got = await call("get", verifier, jar, userId);
      if (got.status === 200) cross(figures.crossVerified, jar.accessBy, verifier.name);
      else if (got.status === 401 && got.body.message === "try refresh token") {
        // As the frontend SDK does: refresh, then carry on.
        figures.tryRefresh++;
        await refresh(jar, pick(), userId);
        continue;
      }
      if (round % 5 === 4 && instances.length > 1) {
        // Two tabs refreshing at once, one on each instance, with the same token.
        figures.parallelPairs++;
        const presented = { ...jar };
        const answers = await Promise.all(instances.slice(0, 2).map((instance) => call("refresh", instance, presented, userId)));
        const successors = answers.map((answer) => answer.cookies.get("sRefreshToken")?.value);
        if (answers.every((a) => a.status === 200) && successors[0] === successors[1]) figures.sameSuccessor++;
        answers.forEach((answer, i) => {
          if (answer.status === 200) cross(figures.crossRefreshed, presented.refreshBy, instances[i]!.name);
        });
        take(jar, answers[1] as Answer, instances[1]!.name);
      } else if (round % 2 === 1) await refresh(jar, pick(), userId);
      // A bounded load (the machine is shared), and now and then a pause longer than the
      // access token lives, so that GETs meet expired tokens too.
      await new Promise((resolve) => setTimeout(resolve, round % 40 === 39 ? 2500 : 20 + Math.random() * 40));
    }
  }

  await Promise.all(Array.from({ length: options.clients }, (_, n) => client(n)));
  return figures;
}

function parseCookies(lines: string[]): Answer["cookies"] {
  const cookies: Answer["cookies"] = new Map();
  for (const line of lines) {
    const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
    const equals = pair.indexOf("=");
    const name = pair.slice(0, equals);
    const value = pair.slice(equals + 1);
    const expires = attributes.find((a) => /^expires=/i.test(a));
    const maxAge = attributes.find((a) => /^max-age=/i.test(a));
    const past = (expires !== undefined && Date.parse(expires.slice(8)) < Date.now()) || (maxAge !== undefined && Number(maxAge.slice(8)) <= 0);
    if (name === "sAccessToken" || name === "sRefreshToken") cookies.set(name, { value, cleared: value === "" || past });
  }
  return cookies;
}
