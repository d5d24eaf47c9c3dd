import db from '@adonisjs/lucid/services/db'
import logger from '@adonisjs/core/services/logger'
import { DateTime } from 'luxon'
import dwhConfig from '#config/dwh'
import { tableDefinition, toBigQueryRow } from '#integrations/bigquery/tables'
import type { InsertResult, SinkRow } from '#integrations/bigquery/sink'
import { sqlTime } from '#helpers/sql_time'

/** Where rows go: the BigQuery sink in production, anything with the same shape in tests. */
export interface DwhSink {
  insert(table: string, rows: SinkRow[]): Promise<InsertResult>
}

export type ShippingOptions = typeof dwhConfig.shipping

export type ShipResult = { claimed: number; sent: number; retrying: number; dead: number }

type OutboxRow = {
  id: number
  table_name: string
  insert_id: string
  payload: string
  attempts: number
}

type Failure = { row: OutboxRow; reason: string; message: string; permanent: boolean }

const COLUMNS = 'id, table_name, insert_id, payload, attempts'

function emptyResult(): ShipResult {
  return { claimed: 0, sent: 0, retrying: 0, dead: 0 }
}

function addTo(totals: ShipResult, result: ShipResult) {
  totals.claimed += result.claimed
  totals.sent += result.sent
  totals.retrying += result.retrying
  totals.dead += result.dead
}

function placeholders(count: number) {
  return new Array(count).fill('?').join(', ')
}

function shorten(message: string) {
  return message.length > 500 ? `${message.slice(0, 497)}...` : message
}

/**
 * Ships the outbox to BigQuery. A batch is claimed first (its rows become
 * invisible to other shippers for `claimMs`), sent with one insertAll per
 * table, then each row is marked sent, rescheduled with exponential backoff,
 * or dead-lettered. The outbox insert_id is the BigQuery insertId, so a row
 * sent twice (crash after the send, two shippers) is stored once.
 */
export class OutboxShipper {
  constructor(
    private sink: DwhSink,
    private options: ShippingOptions = dwhConfig.shipping
  ) {}

  /** Delay before attempt `attempts + 1`, with ±20 % jitter so retries spread out. */
  backoffMs(attempts: number) {
    const base = this.options.backoffBaseMs * 2 ** Math.max(0, attempts - 1)
    return Math.min(this.options.backoffMaxMs, base) * (0.8 + Math.random() * 0.4)
  }

  /**
   * One worker tick: up to `inFlight` batches of due rows, claimed one after
   * the other and sent concurrently (the database work of one batch overlaps
   * the network wait of the other).
   */
  async shipDue(): Promise<ShipResult> {
    const totals = emptyResult()
    const sends: Promise<void>[] = []
    for (let batch = 0; batch < this.options.inFlight; batch++) {
      const rows = await this.claimDue()
      if (!rows.length) break
      sends.push(this.ship(rows).then((result) => addTo(totals, result)))
    }
    await Promise.all(sends)
    return totals
  }

  private async claimDue(): Promise<OutboxRow[]> {
    const now = DateTime.utc()
    return db.rawQuery(
      `UPDATE outbox_events SET next_attempt_at = ?
        WHERE id IN (SELECT id FROM outbox_events
                      WHERE status = 'pending' AND next_attempt_at <= ?
                      ORDER BY next_attempt_at, id LIMIT ?)
        RETURNING ${COLUMNS}`,
      [
        sqlTime(now.plus({ milliseconds: this.options.claimMs })),
        sqlTime(now),
        this.options.batchSize,
      ]
    )
  }

  /**
   * Everything pending now, backoff or not, each row at most once per call
   * (`dwh:flush`). With `retryDead`, dead-lettered rows are replayed too.
   */
  async flush({
    retryDead = false,
    signal,
    onBatch,
  }: { retryDead?: boolean; signal?: AbortSignal; onBatch?: (result: ShipResult) => void } = {}) {
    const revived = retryDead ? await this.reviveDead() : 0
    const totals = emptyResult()
    const last = await db.from('outbox_events').max('id as id').first()
    const maxId: number = last?.id ?? 0
    const inFlight = new Set<Promise<void>>()
    let cursor = 0
    while (!signal?.aborted) {
      const now = DateTime.utc()
      /* `+status`: walk the primary key from the cursor; the status index would sort every pending row per batch. */
      const rows: OutboxRow[] = await db.rawQuery(
        `UPDATE outbox_events SET next_attempt_at = ?
          WHERE id IN (SELECT id FROM outbox_events
                        WHERE id > ? AND id <= ? AND +status = 'pending'
                        ORDER BY id LIMIT ?)
          RETURNING ${COLUMNS}`,
        [
          sqlTime(now.plus({ milliseconds: this.options.claimMs })),
          cursor,
          maxId,
          this.options.batchSize,
        ]
      )
      if (!rows.length) break
      cursor = rows.reduce((highest, row) => Math.max(highest, row.id), cursor)
      const send: Promise<void> = this.ship(rows)
        .then((result) => {
          onBatch?.(result)
          addTo(totals, result)
        })
        .finally(() => inFlight.delete(send))
      inFlight.add(send)
      if (inFlight.size >= this.options.inFlight) await Promise.race(inFlight)
    }
    await Promise.all(inFlight)
    return { ...totals, revived }
  }

  /** Dead rows go back to pending with a fresh attempt budget. */
  async reviveDead() {
    return db
      .from('outbox_events')
      .where('status', 'dead')
      .update({
        status: 'pending',
        attempts: 0,
        next_attempt_at: sqlTime(DateTime.utc()),
        last_error: null,
      })
      .then((result) => Number(Array.isArray(result) ? result[0] : result))
  }

  /** Sent rows older than `keepSentDays` are deleted from the app database. */
  async pruneSent() {
    const before = DateTime.utc().minus({ days: this.options.keepSentDays })
    return db
      .from('outbox_events')
      .where('status', 'sent')
      .where('sent_at', '<', sqlTime(before))
      .delete()
  }

  private async ship(rows: OutboxRow[]): Promise<ShipResult> {
    const result: ShipResult = { claimed: rows.length, sent: 0, retrying: 0, dead: 0 }
    if (!rows.length) return result

    const sent: OutboxRow[] = []
    const failures: Failure[] = []
    const byTable = new Map<string, { row: OutboxRow; sinkRow: SinkRow }[]>()

    for (const row of rows) {
      const definition = tableDefinition(row.table_name)
      if (!definition) {
        failures.push({
          row,
          reason: 'invalid',
          message: `unknown table ${row.table_name}`,
          permanent: true,
        })
        continue
      }
      let payload: Record<string, unknown>
      try {
        payload = JSON.parse(row.payload)
      } catch {
        failures.push({
          row,
          reason: 'invalid',
          message: 'payload is not valid JSON',
          permanent: true,
        })
        continue
      }
      const group = byTable.get(row.table_name) ?? []
      group.push({
        row,
        sinkRow: { insertId: row.insert_id, json: toBigQueryRow(definition, payload) },
      })
      byTable.set(row.table_name, group)
    }

    await Promise.all(
      [...byTable.entries()].map(async ([table, group]) => {
        try {
          const { failed } = await this.sink.insert(
            table,
            group.map((item) => item.sinkRow)
          )
          for (const { row } of group) {
            const error = failed.get(row.insert_id)
            if (!error) {
              sent.push(row)
              continue
            }
            /* An invalid row fails the same way every time: dead-letter it now. */
            failures.push({ row, ...error, permanent: error.reason === 'invalid' })
          }
        } catch (error) {
          const message = shorten(String((error as Error)?.message ?? error))
          logger.warn(
            { table, rows: group.length, err: message },
            'dwh: insertAll failed; will retry'
          )
          for (const { row } of group)
            failures.push({ row, reason: 'request', message, permanent: false })
        }
      })
    )

    await db.transaction(async (trx) => {
      const now = DateTime.utc()
      if (sent.length) {
        await trx.rawQuery(
          `UPDATE outbox_events SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL
            WHERE id IN (${placeholders(sent.length)})`,
          [sqlTime(now), ...sent.map((row) => row.id)]
        )
      }
      for (const { row, reason, message, permanent } of failures) {
        const attempts = row.attempts + 1
        const lastError = shorten(`${reason}: ${message}`)
        if (permanent || attempts >= this.options.maxAttempts) {
          result.dead += 1
          await trx.rawQuery(
            `UPDATE outbox_events SET status = 'dead', attempts = ?, last_error = ? WHERE id = ?`,
            [attempts, lastError, row.id]
          )
        } else {
          result.retrying += 1
          const next = now.plus({ milliseconds: this.backoffMs(attempts) })
          await trx.rawQuery(
            `UPDATE outbox_events SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?`,
            [attempts, lastError, sqlTime(next), row.id]
          )
        }
      }
    })
    result.sent = sent.length
    if (result.dead)
      logger.error(
        { dead: result.dead },
        'dwh: rows dead-lettered (dwh:flush --retry-dead replays them)'
      )
    return result
  }
}

/** Counts per status, for dwh:flush and the logs. */
export async function outboxStats() {
  const rows: { status: string; count: number }[] = await db
    .from('outbox_events')
    .select('status')
    .count('* as count')
    .groupBy('status')
  const stats = { pending: 0, sent: 0, dead: 0 }
  for (const row of rows) stats[row.status as keyof typeof stats] = Number(row.count)
  return stats
}
