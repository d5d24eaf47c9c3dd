import { appendFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import { sqlNow } from '#helpers/sql_time'

type PendingRow = { id: number; table_name: string; payload: string }

/**
 * Development without BigQuery: copies each pending outbox row once to
 * `<root>/<table>/<yyyy-mm-dd>.ndjson` (the day of its `timestamp`, UTC) so
 * the rows can be read or loaded by hand. The rows stay pending, ready for
 * BigQuery once it is configured.
 */
export class NdjsonMirror {
  constructor(
    private root: string,
    private batchSize = 500
  ) {}

  /** Copies one batch; returns how many rows were written. */
  async mirrorBatch() {
    const rows: PendingRow[] = await db
      .from('outbox_events')
      .select('id', 'table_name', 'payload')
      .where('status', 'pending')
      .whereNull('mirrored_at')
      .orderBy('id')
      .limit(this.batchSize)
    if (!rows.length) return 0

    const files = new Map<string, string[]>()
    for (const row of rows) {
      let day = 'unknown'
      try {
        const stamp = JSON.parse(row.payload).timestamp
        const parsed = DateTime.fromISO(String(stamp), { zone: 'utc' })
        if (parsed.isValid) day = parsed.toFormat('yyyy-LL-dd')
      } catch {
        // An unreadable payload still gets mirrored (as is) for inspection.
      }
      /* Tables come from our own code, but keep the path inside the root regardless. */
      const table = row.table_name.replace(/[^a-z0-9_]/gi, '_')
      const file = join(this.root, table, `${day}.ndjson`)
      const lines = files.get(file) ?? []
      lines.push(row.payload.replace(/\n/g, ' '))
      files.set(file, lines)
    }
    for (const [file, lines] of files) {
      await mkdir(join(file, '..'), { recursive: true })
      await appendFile(file, lines.join('\n') + '\n')
    }
    await db
      .from('outbox_events')
      .whereIn(
        'id',
        rows.map((row) => row.id)
      )
      .update({ mirrored_at: sqlNow() })
    return rows.length
  }
}
