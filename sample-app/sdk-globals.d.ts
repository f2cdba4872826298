// The SuperTokens frontend SDK's browser bundles (served at /sdk/*.js) define these globals.
declare const supertokens: typeof import("supertokens-web-js");
declare const supertokensSession: typeof import("supertokens-web-js/recipe/session");
declare const supertokensUserRoles: typeof import("supertokens-web-js/recipe/userroles");
