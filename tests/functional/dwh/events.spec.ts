import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import User from '#models/user'
import { recordEvent } from '#services/dwh/outbox'
import walletService from '#services/wallet_service'
import { freshState } from '#tests/helpers/db'
import { linkFromLatestMail, pathOf } from '#tests/helpers/mailbox'
import { type FakeBigQueryServer } from '#tests/fakes/bigquery_server'
import { readyFake, shipperFor, sinkFor } from '#tests/functional/dwh/helpers'

const PASSWORD = 'correct horse battery'
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) vgen-analytics-test'

/** Drops `timestamp` after checking it is a recent ISO 8601 UTC instant. */
function withoutTimestamp(assert: any, row: Record<string, unknown>) {
  const { timestamp, ...rest } = row
  const parsed = DateTime.fromISO(String(timestamp))
  assert.isTrue(parsed.isValid, `timestamp ${timestamp} is ISO 8601`)
  assert.isBelow(Math.abs(parsed.diffNow().as('minutes')), 5)
  return rest
}

test.group('DWH events: what arrives in BigQuery', (group) => {
  freshState(group)
  let fake: FakeBigQueryServer
  group.each.setup(async () => {
    fake = await readyFake()
    return () => fake.stop()
  })

  test('sign-up, login, top-up, rejected debit, launch and refund arrive as the brief says', async ({
    client,
    assert,
  }) => {
    const email = 'analytics@example.com'
    await client
      .post('/signup')
      .header('user-agent', BROWSER)
      .form({ email, password: PASSWORD, passwordConfirmation: PASSWORD })
      .withCsrfToken()
      .redirects(0)
    const user = await User.findByOrFail('email', email)
    await client.get(pathOf(await linkFromLatestMail(email, '/activate/'))).redirects(0)

    // A spoofed X-Forwarded-For from a peer that is not a trusted proxy is ignored.
    const login = await client
      .post('/login')
      .header('user-agent', BROWSER)
      .header('x-forwarded-for', '8.8.8.8')
      .form({ email, password: PASSWORD })
      .withCsrfToken()
      .redirects(0)
    login.assertStatus(302)
    assert.equal(login.header('location'), '/tasks')

    await walletService.change({
      userId: user.id,
      action: 'topup',
      diff: 1000,
      reference: 'topup:order:1',
      description: 'Bought "small" pack',
    })
    const refused = await walletService.change({
      userId: user.id,
      action: 'used',
      diff: -5000,
      reference: 'used:run:big',
      description: 'Task run',
    })
    assert.equal(refused.status, 'rejected')
    // A launch, as the tasks module writes it: the debit and the launch row in one transaction.
    await db.transaction(async (trx) => {
      await walletService.change(
        {
          userId: user.id,
          action: 'used',
          diff: -300,
          reference: 'used:run:7',
          description: 'Task run',
        },
        trx
      )
      await recordEvent(trx, 'generation_launches', {
        userid: user.id,
        email,
        taskid: 'task-42',
        task_properties: {
          run_id: 7,
          provider_job_id: 'job-abc',
          model: 'lipsync-pro',
          cost: 300,
          regeneration: false,
          inputs: [{ kind: 'video', size: 1048576, duration: 12.5, type: 'video/mp4' }],
        },
      })
    })
    await walletService.change({
      userId: user.id,
      action: 'refund',
      diff: 300,
      reference: 'refund:run:7',
      description: 'Run failed',
    })

    const result = await shipperFor(sinkFor(fake)).flush()
    assert.deepEqual(result, { claimed: 7, sent: 7, retrying: 0, dead: 0, revived: 0 })

    assert.deepEqual(
      fake.rowsOf('user_sessions').map((row) => withoutTimestamp(assert, row)),
      [
        { ip: '127.0.0.1', geo: {}, useragent: BROWSER, action: 'signup', userid: user.id, email },
        { ip: '127.0.0.1', geo: {}, useragent: BROWSER, action: 'login', userid: user.id, email },
      ]
    )
    assert.deepEqual(
      fake.rowsOf('token_balance_changes').map((row) => withoutTimestamp(assert, row)),
      [
        {
          userid: user.id,
          email,
          action: 'topup',
          diff: 1000,
          old_balance: 0,
          new_balance: 1000,
          status: 'applied',
          reference: 'topup:order:1',
        },
        {
          userid: user.id,
          email,
          action: 'used',
          diff: -5000,
          old_balance: 1000,
          new_balance: 1000,
          status: 'rejected',
          reference: 'used:run:big',
        },
        {
          userid: user.id,
          email,
          action: 'used',
          diff: -300,
          old_balance: 1000,
          new_balance: 700,
          status: 'applied',
          reference: 'used:run:7',
        },
        {
          userid: user.id,
          email,
          action: 'refund',
          diff: 300,
          old_balance: 700,
          new_balance: 1000,
          status: 'applied',
          reference: 'refund:run:7',
        },
      ]
    )
    const launches = fake.rowsOf('generation_launches').map((row) => withoutTimestamp(assert, row))
    assert.lengthOf(launches, 1)
    assert.deepEqual(
      { ...launches[0], task_properties: JSON.parse(launches[0].task_properties as string) },
      {
        userid: user.id,
        email,
        taskid: 'task-42',
        task_properties: {
          run_id: 7,
          provider_job_id: 'job-abc',
          model: 'lipsync-pro',
          cost: 300,
          regeneration: false,
          inputs: [{ kind: 'video', size: 1048576, duration: 12.5, type: 'video/mp4' }],
        },
      }
    )
  })

  test('a sign-up that fails writes no session row; a wrong password writes none either', async ({
    client,
    assert,
  }) => {
    await client
      .post('/signup')
      .form({ email: 'not-an-email', password: PASSWORD, passwordConfirmation: PASSWORD })
      .withCsrfToken()
      .redirects(0)
    await client
      .post('/signup')
      .form({ email: 'ok@example.com', password: PASSWORD, passwordConfirmation: PASSWORD })
      .withCsrfToken()
      .redirects(0)
    // Same email again: no new account, so no second sign-up row.
    await client
      .post('/signup')
      .form({ email: 'ok@example.com', password: PASSWORD, passwordConfirmation: PASSWORD })
      .withCsrfToken()
      .redirects(0)
    await client
      .post('/login')
      .form({ email: 'ok@example.com', password: 'wrong password' })
      .withCsrfToken()
      .redirects(0)

    const rows = await db.from('outbox_events').where('table_name', 'user_sessions')
    assert.deepEqual(
      rows.map((row) => JSON.parse(row.payload).action),
      ['signup']
    )
  })

  test('BigQuery down never fails a request: the sign-up succeeds and its row waits', async ({
    client,
    assert,
  }) => {
    fake.mode = 'down'
    const response = await client
      .post('/signup')
      .form({ email: 'down@example.com', password: PASSWORD, passwordConfirmation: PASSWORD })
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    assert.equal(response.header('location'), '/signup/check-email')

    const shipper = shipperFor(sinkFor(fake))
    assert.equal((await shipper.shipDue()).retrying, 1)
    fake.mode = 'up'
    assert.equal((await shipper.flush()).sent, 1)
    assert.equal(fake.rowsOf('user_sessions')[0].email, 'down@example.com')
  })
})
