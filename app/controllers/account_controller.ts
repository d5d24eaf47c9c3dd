import type { HttpContext } from '@adonisjs/core/http'
import db from '@adonisjs/lucid/services/db'
import hash from '@adonisjs/core/services/hash'
import limiter from '@adonisjs/limiter/services/main'
import User from '#models/user'
import Run from '#models/run'
import accountService from '#services/account_service'
import notificationMailer from '#services/notification_mailer'
import sessionGuard, { SESSION_KEYS } from '#services/session_guard'
import { deleteAccount } from '#services/account_deletion'
import {
  changePasswordValidator,
  deleteAccountValidator,
  notificationsValidator,
} from '#validators/account'
import {
  WrongCurrentPasswordException,
  WrongPasswordForDeletionException,
} from '#exceptions/account_exceptions'

/* Guessing the current password from a stolen session is slowed down like a login. */
const passwordChecks = () => limiter.use({ requests: 10, duration: '15 mins' })

async function checkPassword(user: User, plain: string) {
  await passwordChecks().consume(`account-password:${user.id}`)
  return hash.use('scrypt').verify(user.password, plain)
}

/** The customer's own account: facts, password, notification switches, deletion. */
export default class AccountController {
  async show({ view, auth }: HttpContext) {
    const user = auth.getUserOrFail()
    const activeRun = await Run.query()
      .withScopes((scopes) => scopes.ownedBy(user))
      .withScopes((scopes) => scopes.active())
      .first()
    return view.render('pages/account/show', {
      title: 'Account',
      active: 'account',
      user,
      statusText: user.status === 'activated' ? 'Active' : user.status,
      hasActiveRun: !!activeRun,
    })
  }

  /**
   * A wrong current password changes nothing (and says so). Success: the
   * new password, every other session ended (version bump), this one kept,
   * and a notice mailed, all committed together.
   */
  async updatePassword({ request, response, auth, session }: HttpContext) {
    const user = auth.getUserOrFail()
    const { currentPassword, password } = await request.validateUsing(changePasswordValidator)
    if (!(await checkPassword(user, currentPassword))) throw new WrongCurrentPasswordException()
    await db.transaction(async (trx) => {
      const fresh = await User.findOrFail(user.id, { client: trx })
      await accountService.applyPasswordChange(fresh, password, trx)
      await notificationMailer.queuePasswordChanged(trx, fresh)
    })
    await user.refresh()
    session.regenerate()
    sessionGuard.start(session, user)
    session.flash('success', 'Your password was changed. Your other devices were logged out.')
    return response.redirect().toRoute('account.show')
  }

  async updateNotifications({ request, response, auth, session }: HttpContext) {
    const user = auth.getUserOrFail()
    const { notifyRuns, notifyLowBalance } = await request.validateUsing(notificationsValidator)
    user.notifyRuns = notifyRuns === true
    user.notifyLowBalance = notifyLowBalance === true
    await user.save()
    session.flash('success', 'Your notification settings were saved.')
    return response.redirect().toRoute('account.show')
  }

  /** Needs the password; refused while a run is active. Ends every session, this one too. */
  async destroy({ request, response, auth, session }: HttpContext) {
    const user = auth.getUserOrFail()
    const { password } = await request.validateUsing(deleteAccountValidator)
    if (!(await checkPassword(user, password))) throw new WrongPasswordForDeletionException()
    await deleteAccount(user)
    await sessionGuard.revoke(session, user)
    await auth.use('web').logout()
    for (const key of Object.values(SESSION_KEYS)) session.forget(key)
    session.regenerate()
    session.flash('success', 'Your account was deleted. We sent a confirmation to your address.')
    return response.redirect().toRoute('session.create')
  }
}
