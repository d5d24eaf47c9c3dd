import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import { type DateTime } from 'luxon'
import NoticeMail from '#mails/notice_mail'
import { appLink } from '#mails/account_link_mail'
import { queueMail, type OutboxMail } from '#services/mail_outbox'
import { formatTokens } from '#helpers/formatting'
import User from '#models/user'
import type Run from '#models/run'

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
}

export default new NotificationMailer()

/* Used by the builders above and the receipt page: a date the way mails show it. */
export function mailDate(value: DateTime) {
  return `${value.toUTC().toFormat('d LLL yyyy, HH:mm')} UTC`
}
