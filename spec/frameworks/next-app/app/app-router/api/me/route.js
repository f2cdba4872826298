import { guarded } from "../../../../lib/fetch-sessions";

export const GET = guarded((session, headers) => Response.json({ userId: session.userId, handle: session.handle }, { headers }));
export const POST = guarded((session, headers) => Response.json({ userId: session.userId }, { headers }));
