import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import sessionGuard, { SESSION_KEYS } from '#services/session_guard'

export const SESSION_VERSION_KEY = SESSION_KEYS.version

/**
 * Checks the session on every request and ends it when the user has been
 * blocked, changed the password or logged out other devices since (session
 * version bumped), logged this session out (revoked session id), or not
 * used it for the idle limit. Reads only: GET requests never write the
 * database (see SessionGuard).
 */
export default class SilentAuthMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    await ctx.auth.check()
    const user = ctx.auth.user
    if (user) {
      const problem = await sessionGuard.problem(ctx.session, user)
      if (problem) {
        await ctx.auth.use('web').logout()
        ctx.session.regenerate()
        ctx.session.flash(
          'error',
          problem === 'blocked'
            ? 'Your account is blocked. Please contact support.'
            : 'Your session has ended. Please log in again.'
        )
      } else {
        sessionGuard.touch(ctx.session)
      }
    }
    return next()
  }
}
