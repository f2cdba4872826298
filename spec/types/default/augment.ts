// The user's own claims, declared as the README shows.
export {};

declare module "latchkey" {
  interface AccessTokenPayload {
    role?: "admin" | "member";
  }
}
