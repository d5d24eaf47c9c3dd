import type { MailBuilder } from '#services/mail_outbox'
import accountMailer from '#services/account_mailer'
import loginThrottle from '#services/login_throttle'
import notificationMailer from '#services/notification_mailer'

/**
 * Every kind of mail the outbox can deliver, and the builder that makes it
 * (see queueMail in #services/mail_outbox). A new mail: a BaseMail class in
 * app/mails/, a `queue…` function that calls queueMail with a dedupe key,
 * and its builder here.
 */
export const mailKinds: Record<string, MailBuilder> = {
  activation: (mail) => accountMailer.buildActivation(mail),
  reset_request: (mail) => accountMailer.buildResetRequest(mail),
  existing_account: (mail) => accountMailer.buildExistingAccount(mail),
  login_throttled: (mail) => loginThrottle.buildAlert(mail),
  run_succeeded: (mail) => notificationMailer.buildRunSucceeded(mail),
  run_failed: (mail) => notificationMailer.buildRunFailed(mail),
  receipt: (mail) => notificationMailer.buildReceipt(mail),
  low_balance: (mail) => notificationMailer.buildLowBalance(mail),
  password_changed: (mail) => notificationMailer.buildPasswordChanged(mail),
  account_deleted: (mail) => notificationMailer.buildAccountDeleted(mail),
}
