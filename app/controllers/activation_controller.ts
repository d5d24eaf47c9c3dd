import type { HttpContext } from '@adonisjs/core/http'
import accountService from '#services/account_service'
import { linkProblem } from '#presenters/link_problem'

export default class ActivationController {
  /**
   * Following the mailed link activates the account and leads to the login
   * page with the email filled in. No automatic sign-in: mail scanners open
   * links too. This is the one GET that writes (see docs/operations.md).
   */
  async show(ctx: HttpContext) {
    const result = await accountService.activate(ctx.params.token)
    if (!result.ok) return linkProblem(ctx, 'activation', result.reason)

    ctx.session.flash('success', 'Your account is activated. You can log in now.')
    return ctx.response.redirect().toRoute('session.create', [], {
      qs: { email: result.user.email },
    })
  }
}
