// The README's "Using it with NestJS" recipe, verbatim except for the import path
// ("latchkey" there, the sources here): spec/nestjs.nest.spec.ts runs exactly this code.
import { Catch, createParamDecorator, Inject, Injectable, SetMetadata, type ArgumentsHost, type CanActivate, type ExceptionFilter, type ExecutionContext } from "@nestjs/common";
import { Reflector } from "@nestjs/core";
import type { Request, Response } from "express";
import { getSession, sendSessionError, SessionError, type Session, type VerifySessionOptions } from "../../lib";

const SESSION_OPTIONS = "latchkey:verify-session";

/** Marks a route (or a whole controller) as guarded: the options of `verifySession()`. */
export const RequireSession = (options: VerifySessionOptions = {}) => SetMetadata(SESSION_OPTIONS, options);

/** The session the guard set (`undefined` on a `sessionRequired: false` route for an anonymous request). */
export const CurrentSession = createParamDecorator((_data: unknown, context: ExecutionContext): Session | undefined => context.switchToHttp().getRequest<Request>().session);

/** Sets `req.session` on routes marked with `@RequireSession()`; a refusal is thrown as a `SessionError`. */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(@Inject(Reflector) private readonly reflector: Reflector) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const options = this.reflector.getAllAndOverride<VerifySessionOptions | undefined>(SESSION_OPTIONS, [context.getHandler(), context.getClass()]);
    if (options === undefined || context.getType() !== "http") return true;
    const http = context.switchToHttp();
    await getSession(http.getRequest<Request>(), http.getResponse<Response>(), options);
    return true;
  }
}

/** Answers a `SessionError` exactly as `verifySession()` would (401/403/503, tokens cleared when dead). */
@Catch(SessionError)
export class SessionErrorFilter implements ExceptionFilter {
  catch(error: SessionError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    if (!sendSessionError(error, http.getRequest<Request>(), res)) res.end(); // the response had already started
  }
}
