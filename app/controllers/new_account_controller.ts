import type { HttpContext } from '@adonisjs/core/http'
import { signupValidator } from '#validators/auth'
import { limits } from '#start/limiter'
import accountService from '#services/account_service'
import accountMailer from '#services/account_mailer'
import { recordSession } from '#services/session_events'

export default class NewAccountController {
  async create({ view }: HttpContext) {
    return view.render('pages/auth/signup', { title: 'Sign up' })
  }

  /**
   * Same answer whether the email is new or taken, so a stranger learns
   * nothing; the owner of a taken email gets a mail instead.
   */
  async store(ctx: HttpContext) {
    const { request, response } = ctx
    const { email, password } = await request.validateUsing(signupValidator)
    await limits.signupPerIp().consume(`signup:${request.ip()}`)

    const result = await accountService.signup(email, password, (user, trx) =>
      recordSession(ctx, user, 'signup', trx)
    )
    /* Queued, sent by the worker: the answer never waits for the mail server. */
    if (result.created || result.user.status === 'new') {
      await accountMailer.queueActivation(result.user)
    } else {
      await accountMailer.queueExistingAccount(result.user)
    }
    return response.redirect().toRoute('new_account.check_email')
  }

  async checkEmail({ view }: HttpContext) {
    return view.render('pages/auth/check_email', {
      title: 'Check your email',
      message:
        'If this email can be used for a new account, we have sent an activation link to it. Open it to activate your account.',
    })
  }
}
