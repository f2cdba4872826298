import { guarded } from "../../../../lib/fetch-sessions";

export const POST = guarded(async (session, headers, request) => {
  await session.mergeIntoAccessTokenPayload(await request.json());
  return Response.json({}, { headers });
});
