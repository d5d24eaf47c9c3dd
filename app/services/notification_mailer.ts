import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { DateTime } from 'luxon'
import { uuidv7 } from '#helpers/ids'
import NoticeMail from '#mails/notice_mail'
import { appLink } from '#mails/account_link_mail'
import { queueMail, type OutboxMail } from '#services/mail_outbox'
import { formatTokens } from '#helpers/formatting'
import User from '#models/user'
import type Run from '#models/run'
import PaymentOrder from '#models/payment_order'
import { RECEIPT_NOTE, receiptLines } from '#presenters/billing'

type Recipient = {
  email: string
  notify_runs: unknown
  notify_low_balance: unknown
  deleted_at: unknown
}

const SWITCH_FOOTER =
  'You get this mail because notifications are on for your vgen account. Turn them off on your account page.'

async function recipient(trx: TransactionClientContract, userId: string) {
  const row: Recipient | null = await trx
    .from('users')
    .select('email', 'notify_runs', 'notify_low_balance', 'deleted_at')
    .where('id', userId)
    .first()
  return row && !row.deleted_at ? row : null
}

/** The account, when it still exists and still wants this kind of mail (read at delivery). */
async function wants(mail: OutboxMail, setting: 'notifyRuns' | 'notifyLowBalance') {
  const user = mail.userId ? await User.find(mail.userId) : null
  return user && !user.deletedAt && user[setting] ? user : null
}

function text(value: unknown) {
  return typeof value === 'string' ? value : String(value ?? '')
}

/**
 * The product mails around runs, money and the account. Each `queue…`
 * writes one outbox row inside the caller's transaction (so the mail exists
 * exactly when the change it reports committed) with a dedupe key that
 * makes it once-only; the worker builds it (`build…`, app/mails/kinds.ts).
 * Optional mails (runs, low balance) follow the account's switches, read at
 * queueing and again at delivery.
 */
export class NotificationMailer {
  /** One mail per finished run: the dedupe key is the run id, whatever retried or restarted. */
  async queueRunFinished(trx: TransactionClientContract, run: Run) {
    const user = await recipient(trx, run.userId)
    if (!user || !user.notify_runs) return false
    const task = await trx.from('tasks').select('name').where('id', run.taskId).first()
    return queueMail(
      {
        kind: run.status === 'succeeded' ? 'run_succeeded' : 'run_failed',
        to: user.email,
        userId: run.userId,
        dedupeKey: `run-finished:${run.id}`,
        payload: {
          runId: run.id,
          taskId: run.taskId,
          taskName: task?.name ?? 'your task',
          number: run.number,
          cost: run.cost,
          error: run.errorMessage ?? null,
        },
      },
      trx
    )
  }

  async buildRunSucceeded(mail: OutboxMail) {
    if (!(await wants(mail, 'notifyRuns'))) return null
    const p = mail.payload
    return new NoticeMail({
      to: mail.to,
      subject: `Your clip “${text(p.taskName)}” is ready`,
      preheader: `Run #${text(p.number)} finished. Watch it or download the MP4.`,
      heading: 'Your clip is ready',
      paragraphs: [`Run #${text(p.number)} of “${text(p.taskName)}” finished successfully.`],
      button: { href: appLink(`/tasks/${text(p.taskId)}`), text: 'Watch your clip' },
      footer: SWITCH_FOOTER,
    })
  }

  async buildRunFailed(mail: OutboxMail) {
    if (!(await wants(mail, 'notifyRuns'))) return null
    const p = mail.payload
    const cost = formatTokens(Number(p.cost ?? 0))
    return new NoticeMail({
      to: mail.to,
      subject: `Run #${text(p.number)} of “${text(p.taskName)}” failed`,
      preheader: `${cost} tokens were refunded.`,
      heading: 'Your run failed',
      paragraphs: [
        `Run #${text(p.number)} of “${text(p.taskName)}” could not be completed.`,
        `Why: ${text(p.error) || 'The generation service could not make this clip.'}`,
        `We refunded the ${cost} tokens it cost to your balance. You can launch it again from the task page.`,
      ],
      button: { href: appLink(`/tasks/${text(p.taskId)}`), text: 'Open the task' },
      footer: SWITCH_FOOTER,
    })
  }

  /** The receipt of a credited top-up: one per order. */
  async queueReceipt(trx: TransactionClientContract, order: PaymentOrder, balanceAfter: number) {
    const user = await recipient(trx, order.userId)
    if (!user) return false
    return queueMail(
      {
        kind: 'receipt',
        to: user.email,
        userId: order.userId,
        dedupeKey: `receipt:${order.id}`,
        payload: { orderId: order.id, balanceAfter },
      },
      trx
    )
  }

  async buildReceipt(mail: OutboxMail) {
    const order = await PaymentOrder.find(text(mail.payload.orderId))
    const user = mail.userId ? await User.find(mail.userId) : null
    if (!order || order.status !== 'paid' || !user || user.deletedAt) return null
    const receipt = receiptLines(order, Number(mail.payload.balanceAfter))
    return new NoticeMail({
      to: mail.to,
      subject: `Your vgen receipt: ${formatTokens(order.tokens)} tokens`,
      preheader: `Payment received for the “${order.packName}” pack.`,
      heading: 'Thank you for your payment',
      paragraphs: [
        `We received your payment and added ${formatTokens(order.tokens)} tokens to your balance.`,
      ],
      details: receipt.rows,
      button: {
        href: appLink(`/tokens/orders/${order.id}/receipt`),
        text: 'View printable receipt',
      },
      notes: [RECEIPT_NOTE],
      footer: `You get this mail because you bought tokens on vgen with ${mail.to}.`,
    })
  }

  /**
   * At most one low-balance mail per account and UTC day (the key carries
   * the day), when a launch left less than its own cost.
   */
  async queueLowBalance(
    trx: TransactionClientContract,
    launch: { userId: string; cost: number; balance: number }
  ) {
    const user = await recipient(trx, launch.userId)
    if (!user || !user.notify_low_balance) return false
    return queueMail(
      {
        kind: 'low_balance',
        to: user.email,
        userId: launch.userId,
        dedupeKey: `low-balance:${launch.userId}:${DateTime.utc().toISODate()}`,
        payload: { balance: launch.balance, cost: launch.cost },
      },
      trx
    )
  }

  async buildLowBalance(mail: OutboxMail) {
    const user = await wants(mail, 'notifyLowBalance')
    if (!user) return null
    return new NoticeMail({
      to: mail.to,
      subject: 'Your vgen balance is running low',
      preheader: `${formatTokens(user.balance)} tokens left.`,
      heading: 'Your balance is running low',
      paragraphs: [
        `You have ${formatTokens(user.balance)} tokens left, less than the ${formatTokens(Number(mail.payload.cost ?? 0))} tokens your last run cost.`,
        'Top up now so your next run is not refused. Packs are prepaid and tokens never expire.',
      ],
      button: { href: appLink('/tokens'), text: 'Buy tokens' },
      notes: ['We send this at most once a day.'],
      footer: SWITCH_FOOTER,
    })
  }

  /** The notice after a password change on the account page (never optional). */
  async queuePasswordChanged(trx: TransactionClientContract, user: User) {
    return queueMail(
      {
        kind: 'password_changed',
        to: user.email,
        userId: user.id,
        dedupeKey: `password-changed:${user.id}:${uuidv7()}`,
      },
      trx
    )
  }

  async buildPasswordChanged(mail: OutboxMail) {
    const user = mail.userId ? await User.find(mail.userId) : null
    if (!user || user.deletedAt) return null
    return new NoticeMail({
      to: mail.to,
      subject: 'Your vgen password was changed',
      heading: 'Your password was changed',
      paragraphs: [
        `The password of your vgen account was changed on ${mail.createdAt.toUTC().toFormat('d LLL yyyy, HH:mm')} UTC. Your other devices were logged out.`,
        'If you did not do this, reset your password now: the reset link also logs everyone else out.',
      ],
      button: { href: appLink('/forgot-password'), text: 'Reset my password' },
      footer: `You get this mail because the password of the vgen account ${mail.to} was changed.`,
    })
  }

  /** Queued before the address is erased: the outbox row is then its only copy. */
  async queueAccountDeleted(trx: TransactionClientContract, user: User) {
    return queueMail(
      {
        kind: 'account_deleted',
        to: user.email,
        userId: user.id,
        dedupeKey: `account-deleted:${user.id}`,
      },
      trx
    )
  }

  async buildAccountDeleted(mail: OutboxMail) {
    return new NoticeMail({
      to: mail.to,
      subject: 'Your vgen account was deleted',
      heading: 'Your account was deleted',
      paragraphs: [
        'As you asked, we deleted your vgen account: your uploaded files, your results and your email address are gone, and every session was logged out.',
        'We keep the record of token purchases and usage, tied to an anonymous account number only, as accounting law requires.',
      ],
      footer: 'This is the last mail we send to this address. You are welcome back any time.',
    })
  }
}

export default new NotificationMailer()
