import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import walletService, { InvalidDiffError, UnknownUserError } from '#services/wallet_service'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { assertLedgerInvariant } from '#tests/helpers/invariants'

test.group('WalletService', (group) => {
  freshState(group)
  group.each.teardown(async () => {
    const { default: assertMod } = await import('node:assert')
    const violations = await walletService.findInvariantViolations()
    assertMod.deepEqual(violations, [])
  })

  test('credits and debits write ledger and outbox rows', async ({ assert }) => {
    const user = await createUser()
    const credit = await walletService.change({
      userId: user.id,
      action: 'topup',
      diff: 10_000,
      reference: 'topup:order:1',
      description: 'Bought "small" pack',
    })
    assert.equal(credit.status, 'applied')
    assert.equal(credit.oldBalance, 0)
    assert.equal(credit.newBalance, 10_000)

    const debit = await walletService.change({
      userId: user.id,
      action: 'used',
      diff: -300,
      reference: 'used:run:1',
      description: 'Task run',
    })
    assert.equal(debit.newBalance, 9_700)
    assert.equal(await walletService.balanceOf(user.id), 9_700)

    const outbox = await db.from('outbox_events').where('table_name', 'token_balance_changes')
    assert.lengthOf(outbox, 2)
    const payload = JSON.parse(outbox[1].payload)
    assert.include(payload, {
      userid: user.id,
      email: user.email,
      action: 'used',
      diff: -300,
      old_balance: 10_000,
      new_balance: 9_700,
      status: 'applied',
    })
  })

  test('a debit that would go below zero is rejected and recorded', async ({ assert }) => {
    const user = await createUser({ balance: 100 })
    const result = await walletService.change({
      userId: user.id,
      action: 'used',
      diff: -101,
      reference: 'used:run:9',
      description: 'Task run',
    })
    assert.equal(result.status, 'rejected')
    assert.equal(result.newBalance, 100)
    assert.equal(await walletService.balanceOf(user.id), 100)
    const rows = await db.from('ledger_entries').where('user_id', user.id).orderBy('id')
    assert.equal(rows.at(-1).status, 'rejected')
    await assertLedgerInvariant(assert)
  })

  test('a replayed reference applies once', async ({ assert }) => {
    const user = await createUser()
    const change = {
      userId: user.id,
      action: 'topup' as const,
      diff: 500,
      reference: 'topup:order:77',
      description: 'Bought pack',
    }
    const results = await Promise.all(
      Array.from({ length: 10 }, () => walletService.change(change))
    )
    assert.equal(results.filter((r) => r.status === 'applied').length, 1)
    assert.equal(results.filter((r) => r.status === 'duplicate').length, 9)
    assert.equal(await walletService.balanceOf(user.id), 500)
  })

  test('50 concurrent debits: exactly the affordable ones apply', async ({ assert }) => {
    const cost = 70
    const fits = 17
    const user = await createUser({ balance: cost * fits + 30 })
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        walletService.change({
          userId: user.id,
          action: 'used',
          diff: -cost,
          reference: `used:run:c${index}`,
          description: 'Task run',
        })
      )
    )
    assert.equal(results.filter((r) => r.status === 'applied').length, fits)
    assert.equal(results.filter((r) => r.status === 'rejected').length, 50 - fits)
    assert.equal(await walletService.balanceOf(user.id), 30)
    const rejectedRows = await db
      .from('ledger_entries')
      .where({ user_id: user.id, status: 'rejected' })
      .count('* as total')
    assert.equal(Number(rejectedRows[0].total), 50 - fits)
    await assertLedgerInvariant(assert)
  })

  test('bad diffs and unknown users are refused', async ({ assert }) => {
    const user = await createUser()
    for (const diff of [0, 1.5, 2e9, Number.NaN]) {
      await assert.rejects(
        () =>
          walletService.change({
            userId: user.id,
            action: 'manual',
            diff,
            reference: `x${diff}`,
            description: '',
          }),
        InvalidDiffError
      )
    }
    await assert.rejects(
      () =>
        walletService.change({
          userId: 'nope',
          action: 'manual',
          diff: 1,
          reference: 'y',
          description: '',
        }),
      UnknownUserError
    )
  })
})
