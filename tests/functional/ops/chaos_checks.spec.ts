import { test } from '@japa/runner'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import PaymentOrder from '#models/payment_order'
import walletService from '#services/wallet_service'
import taskService from '#services/tasks/task_service'
import { GenerationRunsJob } from '#jobs/generation_runs_job'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { seededTask } from '#tests/functional/tasks/helpers'
import { readyFake, shipperFor, sinkFor } from '#tests/functional/dwh/helpers'
import { FakeApay } from '#tests/fakes/apay_server'
import type { FakeBigQueryServer } from '#tests/fakes/bigquery_server'
import { runChecks, stagingCheck } from '../../../bin/chaos/checks.js'
import { emptyStats } from '../../../bin/chaos/customer.js'

/*
 * The chaos run (`npm run chaos`) is only as good as its checks: a state
 * made by the real services passes them, and each kind of damage the run
 * looks for (a balance off its ledger, a paid order not credited, a run
 * left running or failed without its refund, an analytics row not shipped)
 * fails exactly the check that names it.
 */

type Failing = (names: string[]) => void

test.group('Chaos run checks', (group) => {
  freshState(group)
  let bigQuery: FakeBigQueryServer
  let apay: FakeApay
  let storage: string
  group.each.setup(async () => {
    bigQuery = await readyFake()
    apay = await new FakeApay().start()
    storage = await mkdtemp(join(tmpdir(), 'chaos-checks-'))
    return async () => {
      await bigQuery.stop()
      await apay.close()
      await rm(storage, { recursive: true, force: true })
    }
  })

  /** A paid order, a succeeded run (with its output) and a failed, refunded one; all shipped. */
  async function consistentState() {
    const user = await createUser()
    const order = await PaymentOrder.create({
      userId: user.id,
      packName: 'small',
      priceCents: 1000,
      currency: 'USD',
      tokens: 10_000,
      gateway: 'apay',
      status: 'paid',
      gatewayPaymentId: 'ap_1',
    })
    await walletService.change({
      userId: user.id,
      action: 'topup',
      diff: 10_000,
      reference: `topup:order:${order.id}`,
      description: 'Bought "small" pack',
    })
    const task = await seededTask(user)
    const succeeded = await taskService.launch(user.id, task.id)
    const key = `tasks/${task.id}/runs/${succeeded.id}/output.mp4`
    await mkdir(dirname(join(storage, key)), { recursive: true })
    await writeFile(join(storage, key), 'clip')
    await db.from('runs').where('id', succeeded.id).update({ status: 'succeeded', output_key: key })
    const failed = await taskService.launch(user.id, task.id)
    await new GenerationRunsJob().failAndRefund(failed, 'The generation service lost this job.')
    await shipperFor(sinkFor(bigQuery)).flush()
    return { user, order, succeeded, failed }
  }

  async function failingChecks() {
    const checks = runChecks({
      databasePath: app.makePath(env.get('DATABASE_PATH') ?? 'tmp/vgen.sqlite3'),
      storagePath: storage,
      apay,
      bigQuery,
      stats: emptyStats(),
    })
    return checks.filter((check) => !check.ok).map((check) => check.name)
  }

  const only = (assert: { deepEqual: Function }, pattern: RegExp): Failing => {
    return (names) => {
      assert.deepEqual(
        names.map((name) => pattern.test(name)),
        [true],
        `expected only a check matching ${pattern}, got ${JSON.stringify(names)}`
      )
    }
  }

  test('a state made by the real services passes every check', async ({ assert }) => {
    await consistentState()
    assert.deepEqual(await failingChecks(), [])
  }).timeout(30_000)

  test('a balance that drifted from its ledger fails the ledger invariant', async ({ assert }) => {
    const { user } = await consistentState()
    await db.from('users').where('id', user.id).increment('balance', 5)
    only(assert, /ledger invariant/)(await failingChecks())
  }).timeout(30_000)

  test('a paid order without its credit fails the order check', async ({ assert }) => {
    const { user } = await consistentState()
    await PaymentOrder.create({
      userId: user.id,
      packName: 'small',
      priceCents: 1000,
      currency: 'USD',
      tokens: 10_000,
      gateway: 'apay',
      status: 'paid',
      gatewayPaymentId: 'ap_2',
    })
    only(assert, /paid order credited exactly once/)(await failingChecks())
  }).timeout(30_000)

  test('a payment made at apay whose order stayed pending fails the order check', async ({
    assert,
  }) => {
    const { user } = await consistentState()
    await PaymentOrder.create({
      userId: user.id,
      packName: 'small',
      priceCents: 1000,
      currency: 'USD',
      tokens: 10_000,
      gateway: 'apay',
      status: 'pending',
      gatewayPaymentId: 'ap_2',
    })
    apay.payments.set('ap_2', {
      id: 'ap_2',
      amount: 10,
      currency: 'USD',
      token: { payway: 'payway1', environment: 'prod' },
      behaviour: 'paid',
      body: {},
    })
    only(assert, /paid order credited exactly once/)(await failingChecks())
  }).timeout(30_000)

  test('a run left running, or failed without its refund, fails the run check', async ({
    assert,
  }) => {
    const { succeeded, failed } = await consistentState()
    await db.from('runs').where('id', succeeded.id).update({ status: 'running' })
    only(assert, /run charged once/)(await failingChecks())

    await db.from('runs').where('id', succeeded.id).update({ status: 'succeeded' })
    await db.from('runs').where('id', failed.id).update({ refunded_at: null })
    only(assert, /run charged once/)(await failingChecks())
  }).timeout(30_000)

  test('an outbox row BigQuery never stored fails the shipping check', async ({ assert }) => {
    const { user } = await consistentState()
    await walletService.change({
      userId: user.id,
      action: 'manual',
      diff: 1,
      reference: 'manual:key:late',
      description: 'Not shipped yet',
    })
    only(assert, /outbox row shipped exactly once/)(await failingChecks())
  }).timeout(30_000)

  test('a staging file left by the live process or after the sweep fails', ({ assert }) => {
    assert.isTrue(stagingCheck(['a', 'b'], [], []).ok)
    assert.isFalse(stagingCheck(['a'], ['a'], []).ok)
    assert.isFalse(stagingCheck(['a'], [], ['a']).ok)
  })
})
