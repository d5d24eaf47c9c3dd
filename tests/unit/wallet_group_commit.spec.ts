import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import walletService, { UnknownUserError } from '#services/wallet_service'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { assertLedgerInvariant } from '#tests/helpers/invariants'

test.group('WalletService group commit', (group) => {
  freshState(group)

  test('concurrent changes (grouped into shared commits) each stand alone', async ({ assert }) => {
    const alice = await createUser({ balance: 100 })
    const bob = await createUser()
    const changes = [
      ...Array.from({ length: 30 }, (_, index) => ({
        userId: alice.id,
        action: 'used' as const,
        diff: -10,
        reference: `used:run:a${index}`,
        description: 'Task run',
      })),
      {
        userId: 'no-such-user',
        action: 'manual' as const,
        diff: 5,
        reference: 'manual:x',
        description: '',
      },
      {
        userId: bob.id,
        action: 'topup' as const,
        diff: 700,
        reference: 'topup:order:b',
        description: 'Bought',
      },
      {
        userId: bob.id,
        action: 'topup' as const,
        diff: 700,
        reference: 'topup:order:b',
        description: 'Bought',
      },
    ]
    const results = await Promise.allSettled(changes.map((change) => walletService.change(change)))

    const statuses = results.map((result) =>
      result.status === 'fulfilled' ? result.value.status : 'error'
    )
    assert.equal(statuses.slice(0, 30).filter((status) => status === 'applied').length, 10)
    assert.equal(statuses.slice(0, 30).filter((status) => status === 'rejected').length, 20)
    const unknown = results[30]
    assert.equal(unknown.status, 'rejected')
    assert.instanceOf((unknown as PromiseRejectedResult).reason, UnknownUserError)
    assert.sameMembers(statuses.slice(31), ['applied', 'duplicate'])

    assert.equal(await walletService.balanceOf(alice.id), 0)
    assert.equal(await walletService.balanceOf(bob.id), 700)
    const outbox = await db
      .from('outbox_events')
      .where('table_name', 'token_balance_changes')
      .count('* as total')
    const ledger = await db.from('ledger_entries').count('* as total')
    /* One outbox row per ledger row, and none for the refused unknown user or the replay. */
    assert.equal(Number(outbox[0].total), Number(ledger[0].total))
    assert.equal(Number(ledger[0].total), 1 + 30 + 1)

    const first = (results[0] as PromiseFulfilledResult<any>).value
    assert.equal(first.entry.userId, alice.id)
    assert.equal(first.entry.reference, 'used:run:a0')
    assert.isTrue(first.entry.createdAt.isValid)
    await assertLedgerInvariant(assert)
  })
})
