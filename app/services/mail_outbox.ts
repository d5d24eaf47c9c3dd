import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import logger from '@adonisjs/core/services/logger'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type { BaseMail } from '@adonisjs/mail'
import { sqlTime } from '#helpers/sql_time'

/**
 * A mail waiting in (or delivered from) the outbox, as a builder sees it.
 * `payload` is stored as plain JSON: never put a secret in it (links with
 * one-time tokens are made by the builder, at delivery).
 */
export type OutboxMail = {
  id: number
  kind: string
  to: string
  userId: string | null
  payload: Record<string, unknown>
  attempts: number
  createdAt: DateTime
}

/**
 * Turns an outbox row into the mail to send, or null when there is nothing
 * to send any more (e.g. the account was activated meanwhile): the row is
 * then marked `skipped`. Builders run in the worker, never in a request.
 */
export type MailBuilder = (mail: OutboxMail) => Promise<BaseMail | null>

export type QueueMail = {
  /** Which builder makes the mail (see app/mails/kinds.ts). */
  kind: string
  to: string
  /**
   * Unique per mail that must go out once: a second enqueue with the same key
   * is ignored, even after the first was sent (e.g. `low-balance:<user>:<day>`).
   * Keys are remembered while the row is kept: 30 days after it was queued.
   */
  dedupeKey: string
  userId?: string | null
  payload?: Record<string, unknown>
  /** Not before this time (default: now). */
  sendAfter?: DateTime
  /**
   * Refuse the mail when the address already got `max` mails of these kinds
   * in the last hour (counted from the outbox, so it holds across restarts).
   */
  perAddressPerHour?: { max: number; kinds: readonly string[] }
}

/**
 * Queues a mail for the worker (app/jobs/mail_outbox_job.ts). Pass the
 * caller's transaction to queue it only if the change it is about commits.
 * Returns false when it was not queued (duplicate key or over the limit).
 * Cost is one read and one insert whatever the mail, so a request that
 * queues a mail answers as fast as one that does not.
 */
export async function queueMail(mail: QueueMail, trx?: TransactionClientContract) {
  const client = trx ?? db
  const now = DateTime.utc()
  const limit = mail.perAddressPerHour
  if (limit) {
    const row = await client
      .from('mail_outbox')
      .where('to_address', mail.to)
      .whereIn('kind', [...limit.kinds])
      .where('created_at', '>=', sqlTime(now.minus({ hours: 1 })))
      .count('* as n')
      .first()
    if (Number(row?.n ?? 0) >= limit.max) {
      logger.warn({ kind: mail.kind }, 'mail not queued: per-address limit reached')
      return false
    }
  }
  /* RETURNING gives no row when the key was taken (SQLite's last insert id would be stale). */
  const inserted = await client.rawQuery(
    `INSERT INTO mail_outbox (dedupe_key, kind, to_address, user_id, payload, status, attempts,
       next_attempt_at, created_at)
     VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)
     ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
    [
      mail.dedupeKey,
      mail.kind,
      mail.to,
      mail.userId ?? null,
      JSON.stringify(mail.payload ?? {}),
      sqlTime(mail.sendAfter?.toUTC() ?? now),
      sqlTime(now),
    ]
  )
  return (inserted as unknown[]).length > 0
}
