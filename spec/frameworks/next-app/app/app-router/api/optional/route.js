import { guarded } from "../../../../lib/fetch-sessions";

export const GET = guarded((session, headers) => Response.json({ userId: session?.userId ?? null }, { headers }), { sessionRequired: false });
