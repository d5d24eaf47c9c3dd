import { test } from '@japa/runner'
import ace from '@adonisjs/core/services/ace'
import db from '@adonisjs/lucid/services/db'
import UserStatusCommand from '../../../commands/user_status.js'
import BalanceAdjustCommand from '../../../commands/balance_adjust.js'
import UserShowCommand from '../../../commands/user_show.js'
import PaymentsReconcileCommand from '../../../commands/payments_reconcile.js'
import PaymentOrder from '#models/payment_order'
import { freshState, travel } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'

/** Runs an Ace command in-process with its output captured. */
async function run(command: any, args: string[]) {
  ace.ui.switchMode('raw')
  const instance = await ace.create(command, args)
  await instance.exec()
  const output = instance.ui.logger
    .getLogs()
    .map((log: { message: string }) => log.message)
    .join('\n')
  return { exitCode: instance.exitCode ?? 0, output }
}

test.group('Admin Ace commands', (group) => {
  freshState(group)
  group.teardown(() => ace.ui.switchMode('normal'))
  group.each.teardown(async () => {
    const assertMod = await import('node:assert')
    const { default: wallet } = await import('#services/wallet_service')
    assertMod.deepEqual(await wallet.findInvariantViolations(), [])
  })

  test('user:status by email or id, with clear output', async ({ assert }) => {
    const user = await createUser({ status: 'new', email: 'cli@example.com' })
    const activated = await run(UserStatusCommand, ['CLI@example.com', 'activated'])
    assert.equal(activated.exitCode, 0)
    assert.include(activated.output, 'new → activated')

    const blocked = await run(UserStatusCommand, [user.id, 'blocked'])
    assert.include(blocked.output, 'activated → blocked')
    await user.refresh()
    assert.equal(user.status, 'blocked')

    const same = await run(UserStatusCommand, [user.id, 'blocked'])
    assert.equal(same.exitCode, 0)
    assert.include(same.output, 'already blocked')
  })

  test('user:status errors exit non-zero', async ({ assert }) => {
    const user = await createUser()
    const badStatus = await run(UserStatusCommand, [user.id, 'deleted'])
    assert.equal(badStatus.exitCode, 1)
    assert.include(badStatus.output, 'status must be one of new, activated, blocked')
    const unknown = await run(UserStatusCommand, ['nobody@example.com', 'blocked'])
    assert.equal(unknown.exitCode, 1)
    assert.include(unknown.output, 'No user nobody@example.com')
  })

  test('balance:adjust credits, debits, refuses below zero and honours --key', async ({
    assert,
  }) => {
    const user = await createUser({ email: 'money@example.com' })
    const credit = await run(BalanceAdjustCommand, ['money@example.com', '500'])
    assert.equal(credit.exitCode, 0)
    assert.include(credit.output, '0 → 500')

    const debit = await run(BalanceAdjustCommand, [user.id, '--', '-200'])
    assert.equal(debit.exitCode, 0)
    assert.include(debit.output, '500 → 300')

    const refused = await run(BalanceAdjustCommand, [user.id, '--', '-301'])
    assert.equal(refused.exitCode, 1)
    assert.include(refused.output, 'Refused')

    const keyed = await run(BalanceAdjustCommand, [user.id, '50', '--key=ticket-1'])
    const replay = await run(BalanceAdjustCommand, [user.id, '50', '--key=ticket-1'])
    assert.equal(keyed.exitCode, 0)
    assert.equal(replay.exitCode, 0)
    assert.include(replay.output, 'Already applied')

    for (const diff of ['0', '1.5', 'abc', '1 000', '5000000000']) {
      const bad = await run(BalanceAdjustCommand, [user.id, diff])
      assert.equal(bad.exitCode, 1, diff)
    }
    await user.refresh()
    assert.equal(user.balance, 350)
    const rows = await db.from('ledger_entries').where('user_id', user.id)
    assert.deepEqual(
      rows.map((row) => [row.status, row.diff]),
      [
        ['applied', 500],
        ['applied', -200],
        ['rejected', -301],
        ['applied', 50],
      ]
    )
  })

  test('user:show prints status, balance and the last ledger rows', async ({ assert }) => {
    const user = await createUser({ balance: 1234, email: 'show@example.com' })
    const shown = await run(UserShowCommand, ['show@example.com'])
    assert.equal(shown.exitCode, 0)
    assert.include(shown.output, user.id)
    assert.include(shown.output, 'activated')
    assert.include(shown.output, '1234')
    assert.include(shown.output, 'manual')

    const missing = await run(UserShowCommand, ['01900000-0000-7000-8000-000000000000'])
    assert.equal(missing.exitCode, 1)
  })

  test('payments:reconcile settles with the dev gateway and expires old pending orders', async ({
    client,
    assert,
  }) => {
    const { signedIn } = await import('#tests/helpers/auth')
    const user = await createUser()
    const buy = () =>
      signedIn(client.post('/tokens/orders'), user)
        .form({ pack: 'small' })
        .withCsrfToken()
        .redirects(0)
    const paidCheckout = await buy()
    await buy()
    const paymentId = String(paidCheckout.header('location')).split('/').at(-1)!
    /* Paid at the provider, postback lost. */
    await db.from('dev_payments').where('id', paymentId).update({ status: 'paid' })

    const first = await run(PaymentsReconcileCommand, [])
    assert.equal(first.exitCode, 0)
    assert.include(first.output, '1 paid')
    assert.include(first.output, '1 still pending')
    await user.refresh()
    assert.equal(user.balance, 10_000)

    travel(25 * 60 * 60 * 1000)
    const second = await run(PaymentsReconcileCommand, ['--expire-after=1440'])
    assert.include(second.output, '1 expired')
    const statuses = (await PaymentOrder.query().orderBy('created_at')).map((order) => order.status)
    assert.sameMembers(statuses, ['paid', 'expired'])
  })
})
