import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import type User from '#models/user'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'
import { assertLedgerInvariant } from '#tests/helpers/invariants'
import { rawRequest } from './helpers.js'

const TOKEN = 'admin-token-for-tests-0123456789abcdef'

function putBalance(client: any, body: unknown, headers: Record<string, string> = {}) {
  const request = client.put('/api/internal/balance').bearerToken(TOKEN).json(body)
  for (const [name, value] of Object.entries(headers)) request.header(name, value)
  return request
}

function putUser(client: any, body: unknown) {
  return client.put('/api/internal/user').bearerToken(TOKEN).json(body)
}

async function ledgerOf(user: User) {
  return db.from('ledger_entries').where('user_id', user.id).orderBy('id')
}

test.group('Internal admin API', (group) => {
  freshState(group)
  group.setup(() => {
    const previous = env.get('ADMIN_TOKEN')
    env.set('ADMIN_TOKEN', TOKEN)
    return () => env.set('ADMIN_TOKEN', previous ?? '')
  })
  group.each.teardown(async () => {
    const assertMod = await import('node:assert')
    const { default: wallet } = await import('#services/wallet_service')
    assertMod.deepEqual(await wallet.findInvariantViolations(), [])
  })

  test('balance: a credit and a debit answer the SPEC shape and write manual ledger rows', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const credit = await putBalance(client, { userID: user.id, diff: '100' })
    credit.assertStatus(200)
    assert.deepEqual(credit.body(), { userID: user.id, oldBalance: 0, diff: 100, newBalance: 100 })

    const debit = await putBalance(client, { userID: user.id, diff: -40 })
    assert.deepEqual(debit.body(), { userID: user.id, oldBalance: 100, diff: -40, newBalance: 60 })

    const viaString = await putBalance(client, { userID: user.id, diff: '-10' })
    assert.equal(viaString.body().newBalance, 50)

    const rows = await ledgerOf(user)
    assert.deepEqual(
      rows.map((row) => [row.action, row.status, row.diff]),
      [
        ['manual', 'applied', 100],
        ['manual', 'applied', -40],
        ['manual', 'applied', -10],
      ]
    )
    const page = await signedIn(client.get('/usage'), user)
    page.assertTextIncludes('Manual adjustment')
  })

  test('balance: below zero → 409, nothing changed, the attempt logged as rejected', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ balance: 50 })
    const response = await putBalance(client, { userID: user.id, diff: -51 })
    response.assertStatus(409)
    assert.equal(response.body().error.code, 'insufficient_balance')
    assert.isString(response.body().error.message)
    await user.refresh()
    assert.equal(user.balance, 50)
    const rejected = (await ledgerOf(user)).filter((row) => row.status === 'rejected')
    assert.lengthOf(rejected, 1)
    assert.include(rejected[0], { action: 'manual', diff: -51, old_balance: 50, new_balance: 50 })
  })

  test('balance: an Idempotency-Key makes a retried request apply once', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const headers = { 'Idempotency-Key': 'refund-ticket-4711' }
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => putBalance(client, { userID: user.id, diff: 250 }, headers))
    )
    for (const response of responses) {
      response.assertStatus(200)
      assert.deepEqual(response.body(), {
        userID: user.id,
        oldBalance: 0,
        diff: 250,
        newBalance: 250,
      })
    }
    await user.refresh()
    assert.equal(user.balance, 250)
    const rows = await ledgerOf(user)
    assert.lengthOf(rows, 1)
    assert.equal(rows[0].reference, 'manual:key:refund-ticket-4711')

    const reused = await putBalance(client, { userID: user.id, diff: 999 }, headers)
    reused.assertStatus(409)
    assert.equal(reused.body().error.code, 'idempotency_key_reused')
    await user.refresh()
    assert.equal(user.balance, 250)
  })

  test('balance: bad diffs are 400 with what is wrong, nothing changed', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ balance: 10 })
    const bad: unknown[] = [
      undefined,
      null,
      0,
      '0',
      1.5,
      '1.5',
      '10.0',
      1e10,
      '2000000000',
      1_000_000_001,
      '1 000',
      ' 100',
      '100 ',
      '+-5',
      '1e3',
      'abc',
      '',
      true,
      [100],
      { value: 100 },
    ]
    for (const diff of bad) {
      const body = diff === undefined ? { userID: user.id } : { userID: user.id, diff }
      const response = await putBalance(client, body)
      assert.equal(response.status(), 400, `diff ${JSON.stringify(diff)} must be refused`)
      assert.equal(response.body().error.code, 'invalid_body')
      assert.match(response.body().error.message, /diff/)
    }
    await user.refresh()
    assert.equal(user.balance, 10)
    assert.lengthOf(await ledgerOf(user), 1)
  })

  test('balance: the ceiling of 1e9 itself is accepted', async ({ client }) => {
    const user = await createUser()
    const response = await putBalance(client, { userID: user.id, diff: 1_000_000_000 })
    response.assertStatus(200)
  })

  test('unknown user → 404; missing userID → 400', async ({ client, assert }) => {
    const response = await putBalance(client, {
      userID: '01900000-0000-7000-8000-000000000000',
      diff: 5,
    })
    response.assertStatus(404)
    assert.deepEqual(response.body(), {
      error: { code: 'unknown_user', message: 'No user with this userID' },
    })
    const user404 = await putUser(client, { userID: 'nobody', status: 'blocked' })
    user404.assertStatus(404)
    const missing = await putBalance(client, { diff: 5 })
    missing.assertStatus(400)
  })

  test('malformed JSON, non-object JSON and wrong content types are 400 JSON', async ({
    assert,
  }) => {
    const auth = { authorization: `Bearer ${TOKEN}` }
    const cases: [string, Record<string, string>][] = [
      ['{"userID": "x", "diff": ', { ...auth, 'content-type': 'application/json' }],
      ['"a string"', { ...auth, 'content-type': 'application/json' }],
      ['[1,2,3]', { ...auth, 'content-type': 'application/json' }],
      ['', { ...auth, 'content-type': 'application/json' }],
      ['userID=x&diff=5', { ...auth, 'content-type': 'application/x-www-form-urlencoded' }],
      ['{"userID":"x","diff":5}', { ...auth, 'content-type': 'text/plain' }],
      ['{"userID":"x","diff":5}', { ...auth }],
    ]
    for (const path of ['/api/internal/balance', '/api/internal/user']) {
      for (const [body, headers] of cases) {
        const response = await rawRequest('PUT', path, body, headers)
        assert.equal(response.status, 400, `${path} ${headers['content-type']} ${body}`)
        const json = (await response.json()) as { error: { code: string; message: string } }
        assert.isString(json.error.code)
        assert.isString(json.error.message)
      }
    }
  })

  test('missing, wrong or bare tokens; a disabled API', async ({ client, assert }) => {
    const user = await createUser()
    const body = { userID: user.id, diff: 5 }
    const none = await client.put('/api/internal/balance').json(body)
    none.assertStatus(401)
    assert.equal(none.body().error.code, 'unauthorized')

    const wrong = await client.put('/api/internal/balance').bearerToken(`${TOKEN}x`).json(body)
    wrong.assertStatus(401)

    const bare = await client.put('/api/internal/balance').header('authorization', TOKEN).json(body)
    bare.assertStatus(200)

    for (const configured of ['', 'short-token-31-chars-0123456789']) {
      env.set('ADMIN_TOKEN', configured)
      const disabled = await client
        .put('/api/internal/balance')
        .header('authorization', configured ? `Bearer ${configured}` : 'Bearer ')
        .json(body)
      disabled.assertStatus(503)
      assert.equal(disabled.body().error.code, 'admin_api_disabled')
    }
    env.set('ADMIN_TOKEN', TOKEN)
    await user.refresh()
    assert.equal(user.balance, 5)
  })

  test('user: block ends sessions, activated lets a new user in, new asks to verify again', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const before = await signedIn(client.get('/tokens'), user)
    before.assertStatus(200)
    const sessionVersion = user.sessionVersion

    const blocked = await putUser(client, { userID: user.id, status: 'blocked' })
    blocked.assertStatus(200)
    assert.deepEqual(blocked.body(), {
      userID: user.id,
      email: user.email,
      oldStatus: 'activated',
      newStatus: 'blocked',
    })
    /* The old session (old version) is ended at its next request. */
    const after = await signedIn(client.get('/tokens'), user, { sv: sessionVersion }).redirects(0)
    after.assertStatus(302)
    after.assertHeader('location', '/login')

    const fresh = await createUser({ status: 'new' })
    const activated = await putUser(client, { userID: fresh.id, status: 'activated' })
    assert.include(activated.body(), { oldStatus: 'new', newStatus: 'activated' })
    const login = await client
      .post('/login')
      .form({ email: fresh.email, password: 'correct horse battery' })
      .withCsrfToken()
      .redirects(0)
    login.assertHeader('location', '/tasks')

    const back = await putUser(client, { userID: fresh.id, status: 'new' })
    assert.include(back.body(), { oldStatus: 'activated', newStatus: 'new' })
    await fresh.refresh()
    assert.equal(fresh.status, 'new')
  })

  test('user: unknown status or missing fields → 400', async ({ client, assert }) => {
    const user = await createUser()
    for (const body of [
      { userID: user.id, status: 'deleted' },
      { userID: user.id, status: 'Blocked' },
      { userID: user.id },
      { status: 'blocked' },
      { userID: 42, status: 'blocked' },
    ]) {
      const response = await putUser(client, body)
      assert.equal(response.status(), 400, JSON.stringify(body))
      assert.equal(response.body().error.code, 'invalid_body')
    }
    await user.refresh()
    assert.equal(user.status, 'activated')
    await assertLedgerInvariant(assert)
  })
})
