import AccountLinkMail, { appLink } from '#mails/account_link_mail'
import accountService from '#services/account_service'
import { queueMail, type OutboxMail } from '#services/mail_outbox'
import { uuidv7 } from '#helpers/ids'
import User from '#models/user'

/* The account mails share one limit per address, whatever triggers them. */
export const ACCOUNT_MAIL_KINDS = ['activation', 'reset_request', 'existing_account'] as const
const MAILS_PER_ADDRESS_PER_HOUR = 5
const limit = { max: MAILS_PER_ADDRESS_PER_HOUR, kinds: ACCOUNT_MAIL_KINDS }

/**
 * The account mails (activation, password reset, "you already have an
 * account"). Requests only queue them (`queue*`: one read and one insert,
 * the same work for a known and an unknown address); the worker builds and
 * sends them (`build*`, registered in app/mails/kinds.ts). One-time link
 * tokens are issued at delivery, so the outbox never holds a secret. Over
 * the per-address limit a mail is silently not queued: the answer must not
 * reveal anything about the account.
 */
export class AccountMailer {
  queueActivation(user: User) {
    return queueMail({
      kind: 'activation',
      to: user.email,
      userId: user.id,
      dedupeKey: `activation:${uuidv7()}`,
      perAddressPerHour: limit,
    })
  }

  queueExistingAccount(user: User) {
    return queueMail({
      kind: 'existing_account',
      to: user.email,
      userId: user.id,
      dedupeKey: `existing_account:${uuidv7()}`,
      perAddressPerHour: limit,
    })
  }

  /**
   * "Forgot password" for any address, known or not: the worker decides
   * (reset link, activation link for an unactivated account, nothing).
   */
  queueResetRequest(email: string) {
    return queueMail({
      kind: 'reset_request',
      to: User.normalizeEmail(email),
      dedupeKey: `reset_request:${uuidv7()}`,
      perAddressPerHour: limit,
    })
  }

  /* ---- Delivery (worker) ---- */

  async buildActivation(mail: OutboxMail) {
    const user = mail.userId ? await User.find(mail.userId) : null
    /* Activated (or blocked) since it was asked for: nothing to send. */
    if (!user || user.status !== 'new') return null
    return this.activationMail(user)
  }

  async buildResetRequest(mail: OutboxMail) {
    const user = await accountService.findByEmail(mail.to)
    if (user?.status === 'new') return this.activationMail(user)
    if (user?.status !== 'activated') return null
    const token = await accountService.issueToken(user, 'reset')
    return new AccountLinkMail(user.email, 'reset', appLink(`/reset-password/${token}`))
  }

  async buildExistingAccount(mail: OutboxMail) {
    return new AccountLinkMail(mail.to, 'existing_account', appLink('/forgot-password'))
  }

  private async activationMail(user: User) {
    const token = await accountService.issueToken(user, 'activation')
    return new AccountLinkMail(user.email, 'activation', appLink(`/activate/${token}`))
  }
}

export default new AccountMailer()
