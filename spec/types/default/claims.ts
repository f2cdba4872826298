import { BooleanClaim, PrimitiveArrayClaim, PrimitiveClaim, type Session, type SessionClaimValidator } from "latchkey";
import { expectType, type Equal } from "./assert";

const EmailVerified = new BooleanClaim({ key: "st-ev", fetchValue: async () => true });
const Roles = new PrimitiveArrayClaim<string>({ key: "st-role", fetchValue: () => ["admin"], defaultMaxAgeInSeconds: 300 });
const Tenant = new PrimitiveClaim<string>({ key: "tenant", fetchValue: () => "acme" });

const isTrue = EmailVerified.validators.isTrue();
expectType<Equal<typeof isTrue, SessionClaimValidator>>();
const admins: SessionClaimValidator = Roles.validators.includes("admin");
Roles.validators.includesAny(["admin", "support"]);
Tenant.validators.hasValue("acme");

// @ts-expect-error -- the roles are strings.
Roles.validators.includes(1);
// @ts-expect-error -- a BooleanClaim holds booleans.
EmailVerified.validators.hasValue("yes");
// @ts-expect-error -- fetchValue must give the claim's type.
new BooleanClaim({ key: "bad", fetchValue: () => "yes" });

export async function claims(session: Session): Promise<void> {
  const verified = session.getClaimValue(EmailVerified);
  expectType<Equal<typeof verified, boolean | undefined>>();
  const roles = session.getClaimValue(Roles);
  expectType<Equal<typeof roles, string[] | undefined>>();
  await session.setClaimValue(EmailVerified, true);
  // @ts-expect-error -- a boolean claim.
  await session.setClaimValue(EmailVerified, "true");
  await session.assertClaims([isTrue, admins]);
}
