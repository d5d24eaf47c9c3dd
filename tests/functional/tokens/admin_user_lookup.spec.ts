import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'

const TOKEN = 'admin-token-for-tests-0123456789abcdef'

function getUser(client: any, qs: string, token: string | null = TOKEN) {
  const request = client.get(`/api/internal/user${qs}`)
  return token === null ? request : request.bearerToken(token)
}

test.group('Internal admin API: GET /api/internal/user', (group) => {
  freshState(group)
  group.setup(() => {
    const previous = env.get('ADMIN_TOKEN')
    env.set('ADMIN_TOKEN', TOKEN)
    return () => env.set('ADMIN_TOKEN', previous ?? '')
  })

  test('by email in any case, or by userID: the SPEC fields, nothing else', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ email: 'ann.lookup@example.com', balance: 1700 })
    const expected = {
      userID: user.id,
      email: 'ann.lookup@example.com',
      status: 'activated',
      balance: 1700,
      createdAt: user.createdAt.toUTC().toISO(),
    }
    for (const email of [
      'ann.lookup@example.com',
      'Ann.Lookup@EXAMPLE.com',
      ' ANN.LOOKUP@example.com ',
    ]) {
      const response = await getUser(client, `?email=${encodeURIComponent(email)}`)
      response.assertStatus(200)
      assert.deepEqual(response.body(), expected, email)
    }
    const byId = await getUser(client, `?userID=${user.id}`)
    byId.assertStatus(200)
    assert.deepEqual(byId.body(), expected)
    assert.match(byId.body().createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  })

  test('unknown email or userID → 404 JSON in the PUT routes’ shape', async ({
    client,
    assert,
  }) => {
    await createUser({ email: 'someone@example.com' })
    const byEmail = await getUser(client, '?email=nobody%40example.com')
    byEmail.assertStatus(404)
    assert.deepEqual(byEmail.body(), {
      error: { code: 'unknown_user', message: 'No user with this email' },
    })
    const byId = await getUser(client, '?userID=01900000-0000-7000-8000-000000000000')
    byId.assertStatus(404)
    assert.deepEqual(byId.body(), {
      error: { code: 'unknown_user', message: 'No user with this userID' },
    })
  })

  test('missing, empty, both or repeated parameters → 400 with what is wrong', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const cases: [string, RegExp][] = [
      ['', /\?email= or \?userID=/],
      ['?email=', /\?email= or \?userID=/],
      ['?email=%20%20', /\?email= or \?userID=/],
      ['?userID=', /userID is required/],
      [`?email=${encodeURIComponent(user.email)}&userID=${user.id}`, /not both/],
      ['?email=a%40example.com&email=b%40example.com', /single email/],
      [`?email=${'x'.repeat(300)}%40example.com`, /too long/],
    ]
    for (const [qs, message] of cases) {
      const response = await getUser(client, qs)
      assert.equal(response.status(), 400, qs)
      assert.equal(response.body().error.code, 'invalid_query', qs)
      assert.match(response.body().error.message, message, qs)
    }
  })

  test('the same token rules as the PUT routes; GET changes nothing', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ email: 'token.rules@example.com' })
    const qs = `?email=${encodeURIComponent(user.email)}`
    const none = await getUser(client, qs, null)
    none.assertStatus(401)
    assert.deepEqual(none.body(), {
      error: { code: 'unauthorized', message: 'Missing or wrong admin token' },
    })
    const wrong = await getUser(client, qs, `${TOKEN}x`)
    wrong.assertStatus(401)
    assert.equal(wrong.body().error.code, 'unauthorized')
    const bare = await client.get(`/api/internal/user${qs}`).header('authorization', TOKEN)
    bare.assertStatus(200)

    env.set('ADMIN_TOKEN', 'short-token-31-chars-0123456789')
    const disabled = await getUser(client, qs, 'short-token-31-chars-0123456789')
    env.set('ADMIN_TOKEN', TOKEN)
    disabled.assertStatus(503)
    assert.equal(disabled.body().error.code, 'admin_api_disabled')

    const before = await db.from('users').where('id', user.id).first()
    await getUser(client, qs)
    assert.deepEqual(await db.from('users').where('id', user.id).first(), before)
  })
})
