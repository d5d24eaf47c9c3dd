import { DateTime } from 'luxon'
import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import type { Database as SqliteConnection } from 'better-sqlite3'
import { uuidv7 } from '#helpers/ids'
import { sqlNow } from '#helpers/sql_time'
import type { DwhTable } from '#integrations/bigquery/tables'

export type { DwhTable }

/*
 * This module is the only code that creates outbox rows; the shipper
 * (dwh/shipper.ts) only marks them sent, retried or dead, and prunes them.
 */

/**
 * Queues one analytics row for BigQuery. Call it with the transaction of
 * the change it describes, so the row exists if and only if the change does.
 * `timestamp` is added here (ISO 8601, UTC) unless the row brings its own.
 */
export async function recordEvent(
  client: QueryClientContract,
  table: DwhTable,
  row: Record<string, unknown>
) {
  await client.table('outbox_events').insert(outboxRow(table, row))
}

/**
 * The same on a raw better-sqlite3 connection that is already inside a
 * transaction: WalletService applies balance changes synchronously (group
 * commit), where nothing can be awaited.
 */
export function recordEventSync(
  conn: Pick<SqliteConnection, 'prepare'>,
  table: DwhTable,
  row: Record<string, unknown>
) {
  conn
    .prepare(
      `INSERT INTO outbox_events (table_name, insert_id, payload, status, attempts, next_attempt_at, created_at)
       VALUES (@table_name, @insert_id, @payload, @status, @attempts, @next_attempt_at, @created_at)`
    )
    .run(outboxRow(table, row))
}

/* The `outbox_events` columns for one new event. */
function outboxRow(table: DwhTable, row: Record<string, unknown>) {
  const now = DateTime.utc()
  const payload = { timestamp: now.toISO(), ...row }
  return {
    table_name: table,
    insert_id: uuidv7(),
    payload: JSON.stringify(payload),
    status: 'pending',
    attempts: 0,
    next_attempt_at: sqlNow(),
    created_at: sqlNow(),
  }
}
