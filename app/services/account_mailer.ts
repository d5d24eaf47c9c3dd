import mail from '@adonisjs/mail/services/main'
import logger from '@adonisjs/core/services/logger'
import limiter from '@adonisjs/limiter/services/main'
import AccountLinkMail, { appLink } from '#mails/account_link_mail'
import accountService from '#services/account_service'
import type User from '#models/user'

/* At most this many account mails per address per hour, whatever triggers them. */
const MAILS_PER_ADDRESS_PER_HOUR = 5

/**
 * Sends the account mails. Over the per-address limit the mail is skipped
 * silently: the caller's response must not reveal anything about the account.
 * A mail failure is logged, never shown as a stack trace to the user.
 */
export class AccountMailer {
  /** `mailer` picks a configured mailer by name; the default follows MAIL_MAILER. */
  constructor(private mailer?: 'smtp' | 'dev') {}

  private async deliver(user: User, build: () => Promise<AccountLinkMail>) {
    const allowed = await limiter
      .use({ requests: MAILS_PER_ADDRESS_PER_HOUR, duration: '1 hour' })
      .attempt(`mail:${user.email}`, () => true)
    if (!allowed) {
      logger.warn({ userId: user.id }, 'account mail skipped: per-address limit reached')
      return false
    }
    try {
      await (this.mailer ? mail.use(this.mailer) : mail).send(await build())
      return true
    } catch (error) {
      logger.error({ err: error, userId: user.id }, 'account mail could not be sent')
      return false
    }
  }

  sendActivation(user: User) {
    return this.deliver(user, async () => {
      const token = await accountService.issueToken(user, 'activation')
      return new AccountLinkMail(user.email, 'activation', appLink(`/activate/${token}`))
    })
  }

  sendReset(user: User) {
    return this.deliver(user, async () => {
      const token = await accountService.issueToken(user, 'reset')
      return new AccountLinkMail(user.email, 'reset', appLink(`/reset-password/${token}`))
    })
  }

  sendExistingAccount(user: User) {
    return this.deliver(
      user,
      async () => new AccountLinkMail(user.email, 'existing_account', appLink('/forgot-password'))
    )
  }
}

export default new AccountMailer()
