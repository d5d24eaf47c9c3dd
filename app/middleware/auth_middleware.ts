import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'

export const INTENDED_URL_KEY = 'intended_url'

/**
 * Signed-out visitors of app pages go to the login page and come back to
 * the page they wanted after logging in.
 */
export default class AuthMiddleware {
  redirectTo = '/login'

  async handle(ctx: HttpContext, next: NextFn) {
    if (ctx.auth.isAuthenticated) return next()

    if (ctx.request.method() === 'GET') {
      ctx.session.put(INTENDED_URL_KEY, ctx.request.url(true))
    }
    const accepts = ctx.request.accepts(['html', 'json'])
    if (accepts === 'json' && !ctx.request.accepts(['html'])) {
      return ctx.response.unauthorized({
        error: { code: 'unauthenticated', message: 'Please log in.' },
      })
    }
    return ctx.response.redirect(this.redirectTo)
  }
}
