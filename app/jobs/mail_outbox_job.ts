import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import logger from '@adonisjs/core/services/logger'
import mail from '@adonisjs/mail/services/main'
import env from '#start/env'
import { sqlTime } from '#helpers/sql_time'
import type { MailBuilder, OutboxMail } from '#services/mail_outbox'
import type { WorkerJob } from '#services/worker/types'

export type MailOutboxOptions = {
  /** A configured mailer by name; the default follows MAIL_MAILER. */
  mailer?: 'smtp' | 'dev'
  /** Rows taken per tick. */
  batch: number
  /** Mails on their way to the SMTP server at once (each on its own connection). */
  concurrency: number
  /** Failed attempts before a mail is given up (status `dead`). */
  maxAttempts: number
  backoffBaseMs: number
  backoffMaxMs: number
  /** Sent and skipped rows are deleted after this long (dedupe keys live as long). */
  keepDays: number
}

export const mailOutboxDefaults: MailOutboxOptions = {
  batch: 20,
  concurrency: 4,
  maxAttempts: 10,
  backoffBaseMs: 30_000,
  backoffMaxMs: 60 * 60_000,
  keepDays: 30,
}

export type DeliveryResult = {
  claimed: number
  sent: number
  skipped: number
  retrying: number
  dead: number
}

type Row = {
  id: number
  kind: string
  to_address: string
  user_id: string | null
  payload: string
  attempts: number
  created_at: string
}

const PRUNE_EVERY_MS = 60 * 60_000

/* SMTP 5xx replies are permanent (RFC 5321 §4.2.1): retrying cannot help. */
function isPermanent(error: unknown) {
  const code = (error as { responseCode?: unknown }).responseCode
  return typeof code === 'number' && code >= 500 && code < 600
}

function shorten(message: string) {
  return message.length > 500 ? `${message.slice(0, 497)}...` : message
}

/**
 * Delivers the mail outbox. Each due row is claimed by moving its next
 * attempt into the future (so a crash mid-send retries it later rather than
 * losing it), built by its kind's builder, sent, then marked `sent` with the
 * time and message id — or rescheduled with exponential backoff, or `dead`
 * after `maxAttempts` or a permanent SMTP refusal. Delivery is at least
 * once: a crash between the SMTP server's "250 OK" and our update sends the
 * mail again, with the same Message-ID (`<outbox-<id>@host>`) so mail
 * systems can tell the copies apart.
 */
export class MailOutboxJob implements WorkerJob {
  name = 'mail:outbox'
  everyMs = env.get('WORKER_POLL_MS') ?? 1000
  private options: MailOutboxOptions
  private lastPrune = 0
  private kinds?: Record<string, MailBuilder>

  constructor(options: Partial<MailOutboxOptions> = {}) {
    this.options = { ...mailOutboxDefaults, ...options }
  }

  async tick(signal?: AbortSignal) {
    if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = Date.now()
      await this.prune()
    }
    const result = await this.deliverDue(signal)
    return { didWork: result.claimed > 0 }
  }

  /** Delay before attempt `attempts + 1`. */
  backoffMs(attempts: number) {
    const base = this.options.backoffBaseMs * 2 ** Math.max(0, attempts - 1)
    return Math.min(this.options.backoffMaxMs, base)
  }

  /** One batch of due mails, oldest first. */
  async deliverDue(signal?: AbortSignal): Promise<DeliveryResult> {
    const result: DeliveryResult = { claimed: 0, sent: 0, skipped: 0, retrying: 0, dead: 0 }
    this.kinds ??= (await import('#mails/kinds')).mailKinds
    const rows: Row[] = await db
      .from('mail_outbox')
      .where('status', 'pending')
      .where('next_attempt_at', '<=', sqlTime(DateTime.utc()))
      .orderBy('id')
      .limit(this.options.batch)
      .select('id', 'kind', 'to_address', 'user_id', 'payload', 'attempts', 'created_at')
    /* A few lanes, each taking the next row: a slow SMTP answer holds up one lane, not the batch. */
    const queue = [...rows]
    const lane = async () => {
      for (let row = queue.shift(); row && !signal?.aborted; row = queue.shift()) {
        if (!(await this.claim(row))) continue
        result.claimed += 1
        result[await this.deliver(row)] += 1
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency) }, lane))
    return result
  }

  /** True when this process owns the attempt (the row was still due and unchanged). */
  private async claim(row: Row) {
    const attempts = row.attempts + 1
    const retryAt = DateTime.utc().plus({ milliseconds: this.backoffMs(attempts) })
    const updated = await db
      .from('mail_outbox')
      .where({ id: row.id, status: 'pending', attempts: row.attempts })
      .update({ attempts, next_attempt_at: sqlTime(retryAt) })
    row.attempts = attempts
    return Number(updated) === 1
  }

  private async deliver(row: Row): Promise<'sent' | 'skipped' | 'retrying' | 'dead'> {
    const outboxMail: OutboxMail = {
      id: row.id,
      kind: row.kind,
      to: row.to_address,
      userId: row.user_id,
      payload: JSON.parse(row.payload),
      attempts: row.attempts,
      createdAt: DateTime.fromSQL(row.created_at, { zone: 'utc' }),
    }
    try {
      const builder = this.kinds![row.kind]
      if (!builder)
        throw Object.assign(new Error(`unknown mail kind "${row.kind}"`), { responseCode: 554 })
      const built = await builder(outboxMail)
      if (!built) {
        await this.finish(row, { status: 'skipped' })
        return 'skipped'
      }
      const messageId = `<outbox-${row.id}@${new URL(env.get('APP_URL')).hostname}>`
      built.message.messageId(messageId)
      await (this.options.mailer ? mail.use(this.options.mailer) : mail).send(built)
      await this.finish(row, {
        status: 'sent',
        sent_at: sqlTime(DateTime.utc()),
        message_id: messageId,
      })
      return 'sent'
    } catch (error) {
      const message = shorten((error as Error)?.message ?? String(error))
      const giveUp = isPermanent(error) || row.attempts >= this.options.maxAttempts
      await this.finish(row, { status: giveUp ? 'dead' : 'pending', last_error: message })
      logger[giveUp ? 'error' : 'warn'](
        { outboxId: row.id, kind: row.kind, attempts: row.attempts, err: message },
        giveUp ? 'mail given up' : 'mail not sent, will retry'
      )
      return giveUp ? 'dead' : 'retrying'
    }
  }

  private async finish(row: Row, changes: Record<string, unknown>) {
    await db.from('mail_outbox').where('id', row.id).update(changes)
  }

  /** Deletes delivered and skipped rows past `keepDays` (dead ones stay for inspection). */
  async prune() {
    const cutoff = DateTime.utc().minus({ days: this.options.keepDays })
    await db
      .from('mail_outbox')
      .whereIn('status', ['sent', 'skipped'])
      .where('created_at', '<', sqlTime(cutoff))
      .delete()
  }
}
