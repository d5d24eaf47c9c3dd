import type { HttpContext } from '@adonisjs/core/http'
import { forgotPasswordValidator, resetPasswordValidator } from '#validators/auth'
import { limits } from '#start/limiter'
import accountService from '#services/account_service'
import accountMailer from '#services/account_mailer'
import loginThrottle from '#services/login_throttle'
import { linkProblem } from '#presenters/link_problem'

export default class PasswordResetController {
  async create({ view }: HttpContext) {
    return view.render('pages/auth/forgot_password', { title: 'Forgot password' })
  }

  /**
   * Same answer, in the same time, for known and unknown emails: the request
   * only queues it; the worker looks the address up and mails a reset link
   * (an activation link to an unactivated account, nothing to a stranger).
   */
  async store({ request, response }: HttpContext) {
    const { email } = await request.validateUsing(forgotPasswordValidator)
    await limits.resetRequestPerIp().consume(`reset:${request.ip()}`)

    await accountMailer.queueResetRequest(email)
    return response.redirect().toRoute('password_reset.sent')
  }

  async sent({ view }: HttpContext) {
    return view.render('pages/auth/check_email', {
      title: 'Check your email',
      message:
        'If an account exists for this email, we have sent it a link to set a new password (or to activate the account first).',
    })
  }

  /** Opening the link only shows the form; the POST spends the token. */
  async edit(ctx: HttpContext) {
    const check = await accountService.checkToken(ctx.params.token, 'reset')
    if (!check.ok) return linkProblem(ctx, 'reset', check.reason)
    return ctx.view.render('pages/auth/reset_password', {
      title: 'Set a new password',
      token: ctx.params.token,
      email: check.user.email,
    })
  }

  async update(ctx: HttpContext) {
    const { password } = await ctx.request.validateUsing(resetPasswordValidator)
    const result = await accountService.resetPassword(ctx.params.token, password)
    if (!result.ok) return linkProblem(ctx, 'reset', result.reason)

    /* The mailbox is proven: logins from new devices are no longer paused for this account. */
    await loginThrottle.lift(result.user.email)
    ctx.session.flash('success', 'Your password was changed. Log in with your new password.')
    return ctx.response.redirect().toRoute('session.create', [], {
      qs: { email: result.user.email },
    })
  }
}
