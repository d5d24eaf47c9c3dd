import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'

/** Signed-in users have no business on the auth pages: send them to the dashboard. */
export default class GuestMiddleware {
  redirectTo = '/tasks'

  async handle(ctx: HttpContext, next: NextFn) {
    if (ctx.auth.isAuthenticated) {
      return ctx.response.redirect(this.redirectTo, true)
    }
    return next()
  }
}
