import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'

export const SESSION_VERSION_KEY = 'sv'

/**
 * Checks the session on every request and ends it when the user has been
 * blocked or has changed the password since (session version bumped). With
 * the cookie session store this is how sessions are revoked without writing
 * to the database on reads.
 */
export default class SilentAuthMiddleware {
  async handle(ctx: HttpContext, next: NextFn) {
    await ctx.auth.check()
    const user = ctx.auth.user
    if (user) {
      const version = ctx.session.get(SESSION_VERSION_KEY)
      if (user.status !== 'activated' || version !== user.sessionVersion) {
        await ctx.auth.use('web').logout()
        ctx.session.regenerate()
        if (user.status === 'blocked') {
          ctx.session.flash('error', 'Your account is blocked. Please contact support.')
        } else {
          ctx.session.flash('error', 'Your session has ended. Please log in again.')
        }
      }
    }
    return next()
  }
}
