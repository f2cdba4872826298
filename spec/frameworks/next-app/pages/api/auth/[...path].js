import { sessions } from "../../../lib/sessions";

// latchkey's endpoints: POST /api/auth/session/refresh, POST /api/auth/signout, GET /api/auth/jwt/jwks.json.
export default sessions.apiHandler;
