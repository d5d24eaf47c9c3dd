import { Exception } from '@adonisjs/core/exceptions'
import type { HttpContext } from '@adonisjs/core/http'

function waitText(seconds: number) {
  if (seconds < 90) return `${Math.max(1, Math.ceil(seconds))} seconds`
  return `${Math.ceil(seconds / 60)} minutes`
}

/**
 * Too many failed logins for one account (from new devices) or on one known
 * device. Answers 429 with Retry-After and the login form itself, saying
 * what still works: a known device, or a password reset by mail.
 */
export default class LoginThrottledException extends Exception {
  static status = 429
  static code = 'E_LOGIN_THROTTLED'

  constructor(
    public scope: 'account' | 'device',
    public retryAfterSeconds: number
  ) {
    super(
      scope === 'account'
        ? `Too many failed logins for this account. To protect it, logging in from a new device is paused for ${waitText(retryAfterSeconds)}. On a device you have logged in with before, you can log in as usual.`
        : `Too many failed logins on this device. Please wait ${waitText(retryAfterSeconds)} and try again.`
    )
  }

  async handle(error: this, ctx: HttpContext) {
    const retryAfter = Math.max(1, Math.ceil(error.retryAfterSeconds))
    ctx.response.header('Retry-After', String(retryAfter))
    ctx.response.status(429)
    if (ctx.request.accepts(['html', 'json']) === 'json') {
      return ctx.response.send({ error: { code: 'login_throttled', message: error.message } })
    }
    const email = String(ctx.request.input('email', '')).slice(0, 254)
    return ctx.response.send(
      await ctx.view.render('pages/auth/login', {
        title: 'Log in',
        email,
        throttled: error.message,
      })
    )
  }
}
