import db from '@adonisjs/lucid/services/db'
import limiter from '@adonisjs/limiter/services/main'
import type { Group } from '@japa/runner/core'
import { Settings } from 'luxon'
import { clearMailbox } from '#services/dev_mailbox'

const TABLES_IN_DELETE_ORDER = ['outbox_events', 'ledger_entries', 'account_tokens', 'users']

/**
 * Each test starts from empty tables, a fresh mailbox, no rate-limit
 * counters and the real clock. Tables added later are truncated when they
 * exist (children before parents).
 */
export async function resetState() {
  const rows: { name: string }[] = await db.rawQuery(
    `SELECT name FROM sqlite_master WHERE type = 'table'`
  )
  const existing = new Set(rows.map((row) => row.name))
  const extra = [...existing].filter(
    (name) =>
      !TABLES_IN_DELETE_ORDER.includes(name) &&
      !name.startsWith('sqlite_') &&
      !name.startsWith('adonis_schema')
  )
  await db.rawQuery('PRAGMA foreign_keys = OFF')
  for (const table of [...extra, ...TABLES_IN_DELETE_ORDER]) {
    if (existing.has(table)) await db.from(table).delete()
  }
  await db.rawQuery('PRAGMA foreign_keys = ON')
  await clearMailbox()
  await limiter.clear()
  Settings.now = () => Date.now()
}

/** Use in every group: `group.each.setup(() => resetState())`. */
export function freshState(group: Group) {
  group.each.setup(() => resetState())
}

/** Moves the clock (luxon's) forward, e.g. to expire a 24 h link. */
export function travel(milliseconds: number) {
  const base = Date.now()
  Settings.now = () => Date.now() - base + base + milliseconds
}
