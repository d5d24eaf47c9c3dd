import { DateTime } from 'luxon'
import type { QueryClientContract } from '@adonisjs/lucid/types/database'
import { uuidv7 } from '#helpers/ids'
import { sqlNow } from '#helpers/sql_time'
import type { DwhTable } from '#integrations/bigquery/tables'

export type { DwhTable }

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

/** The `outbox_events` columns for one event (also written directly by WalletService's fast path). */
export function outboxRow(table: DwhTable, row: Record<string, unknown>) {
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
