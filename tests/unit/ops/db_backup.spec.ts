import { test } from '@japa/runner'
import Database from 'better-sqlite3'
import { rm } from 'node:fs/promises'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import walletService from '#services/wallet_service'
import { databasePath } from '#config/database'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { spawnAce } from '#tests/helpers/app_process'

async function ledgerCount() {
  const [row] = await db.from('ledger_entries').count('* as total')
  return Number(row.total)
}

test.group('db:backup', (group) => {
  freshState(group)

  test('copies the live database under concurrent writes; the copy is whole and balanced', async ({
    assert,
  }) => {
    const target = app.makePath('tmp/test-ops-backup.sqlite3')
    await rm(target, { force: true })
    const users = await Promise.all([1, 2, 3, 4, 5].map(() => createUser({ balance: 1_000 })))

    /* Steady write load: credits and debits (some refused) through the wallet. */
    let writing = true
    let serial = 0
    const load = (async () => {
      while (writing) {
        serial += 1
        const user = users[serial % users.length]
        await walletService.change({
          userId: user.id,
          action: 'manual',
          diff: serial % 3 === 0 ? -700 : 250,
          reference: `test:load:${serial}`,
          description: 'Load',
        })
        /* SQLite calls resolve as microtasks: let I/O (the child's exit) through. */
        await yieldToEventLoop()
      }
    })()

    const before = await ledgerCount()
    const backup = spawnAce(['db:backup', target], { port: 3399, databasePath })
    const { code } = await backup.exited
    const after = await ledgerCount()
    writing = false
    await load

    assert.equal(code, 0, backup.lines.join('\n'))
    assert.match(backup.lines.join('\n'), /Backed up \d+ pages .* integrity ok/)
    assert.isAbove(after - before, 50, 'the app kept writing while the backup ran')

    const copy = new Database(target, { readonly: true, fileMustExist: true })
    try {
      assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok')
      assert.equal(copy.pragma('journal_mode', { simple: true }), 'delete')
      const copied = (copy.prepare('SELECT COUNT(*) AS n FROM ledger_entries').get() as any).n
      assert.isAtLeast(copied, before)
      assert.isAtMost(copied, after)
      const violations = copy
        .prepare(
          `SELECT u.id FROM users u
             LEFT JOIN ledger_entries l ON l.user_id = u.id AND l.status = 'applied'
            GROUP BY u.id HAVING u.balance <> COALESCE(SUM(l.diff), 0) OR u.balance < 0`
        )
        .all()
      assert.deepEqual(violations, [])
      assert.equal((copy.prepare('SELECT COUNT(*) AS n FROM users').get() as any).n, 5)
    } finally {
      copy.close()
    }
  }).timeout(60_000)

  test('refuses to overwrite an existing file without --force', async ({ assert }) => {
    const target = app.makePath('tmp/test-ops-backup-exists.sqlite3')
    const existing = new Database(target)
    existing.close()
    const backup = spawnAce(['db:backup', target], { port: 3399, databasePath })
    const { code } = await backup.exited
    assert.equal(code, 1)
    assert.include(backup.lines.join('\n'), 'pass --force to overwrite it')
    await rm(target, { force: true })
  }).timeout(60_000)
})
