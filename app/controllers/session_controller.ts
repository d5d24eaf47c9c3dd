import type { HttpContext } from '@adonisjs/core/http'
import { loginValidator } from '#validators/auth'
import { limits } from '#start/limiter'
import accountService, { type LoginResult } from '#services/account_service'
import accountMailer from '#services/account_mailer'
import { recordSession } from '#services/session_events'
import sessionGuard, { SESSION_KEYS } from '#services/session_guard'
import loginThrottle from '#services/login_throttle'
import { INTENDED_URL_KEY } from '#middleware/auth_middleware'

/** Only same-site relative paths are followed after login. */
function safeIntended(value: unknown) {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//')
    ? value
    : null
}

export default class SessionController {
  async create({ view, request }: HttpContext) {
    const email = typeof request.qs().email === 'string' ? request.qs().email.slice(0, 254) : ''
    return view.render('pages/auth/login', { title: 'Log in', email })
  }

  async store(ctx: HttpContext) {
    const { request, response, session, auth } = ctx
    const { email, password } = await request.validateUsing(loginValidator)
    await limits.loginPerIp().consume(`login:ip:${request.ip()}`)
    await limits.loginPerEmailAndIp().consume(`login:${email}:${request.ip()}`)

    /* Wrong passwords count per account across IPs; known devices on their own (LoginThrottle). */
    const outcome = await loginThrottle.attempt(ctx, email, async () => {
      const login = await accountService.attemptLogin(email, password)
      return !login.ok && login.reason === 'invalid_credentials' ? false : login
    })
    const result: LoginResult =
      outcome === false ? { ok: false, reason: 'invalid_credentials' } : outcome
    if (!result.ok) {
      session.flashOnly(['email'])
      if (result.reason === 'not_activated') {
        await accountMailer.queueActivation(result.user!)
        session.flash(
          'error',
          'Please verify your email first. We have just sent you a new activation link.'
        )
      } else if (result.reason === 'blocked') {
        session.flash('error', 'Your account is blocked. Please contact support.')
      } else {
        session.flash('error', 'Invalid email or password.')
      }
      return response.redirect().toRoute('session.create')
    }

    const intended = safeIntended(session.pull(INTENDED_URL_KEY))
    session.regenerate()
    await auth.use('web').login(result.user)
    sessionGuard.start(session, result.user)
    loginThrottle.rememberDevice(ctx, result.user.email)
    await recordSession(ctx, result.user, 'login')
    return response.redirect(intended ?? '/tasks')
  }

  /** Ends this session on the server too: a copy of the cookie stops working. */
  async destroy({ auth, response, session }: HttpContext) {
    await sessionGuard.revoke(session, auth.getUserOrFail())
    await auth.use('web').logout()
    for (const key of Object.values(SESSION_KEYS)) session.forget(key)
    session.regenerate()
    session.flash('success', 'You have been logged out.')
    return response.redirect().toRoute('session.create')
  }

  /** "Log out other devices": every other session (and copy of this one) ends. */
  async destroyOthers({ auth, response, session }: HttpContext) {
    await sessionGuard.endOthers(session, auth.getUserOrFail())
    session.regenerate()
    session.flash('success', 'Your other devices have been logged out.')
    return response.redirect().back()
  }
}
