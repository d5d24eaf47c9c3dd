import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import type { Session } from '@adonisjs/session'
import Task from '#models/task'
import sessionGuard, { IDLE_LIMIT_MS, SESSION_KEYS } from '#services/session_guard'
import { freshState, travel } from '#tests/helpers/db'
import { signedIn } from '#tests/helpers/auth'
import { createUser, TEST_PASSWORD as PASSWORD } from '#tests/helpers/users'
import { logIn, serveAppFor, type WebClient } from '#tests/helpers/app_process'

/*
 * Against a real server with the production session store (the encrypted
 * cookie), because that is where a logout used to leave copies working:
 * a copy of the cookies is all an attacker has.
 */
async function post(web: WebClient, formPath: string, action: string, fields = {}) {
  return web.submit(formPath, action, fields)
}

test.group('Logout ends the session on the server (cookie store)', (group) => {
  freshState(group)
  const server = serveAppFor(group, { SESSION_DRIVER: 'cookie' })

  test('a copy of the cookies taken before logout opens nothing and creates nothing', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const web = await logIn(server(), user.email)
    const csrf = await web.csrfToken('/tasks/new')
    const copy = web.copy()
    assert.equal((await copy.get('/tasks')).status, 200)

    const logout = await post(web, '/tasks', '/logout')
    assert.equal(logout.headers.get('location'), '/login')

    const page = await copy.get('/tasks')
    assert.equal(page.status, 302)
    assert.equal(page.headers.get('location'), '/login')

    /* The copy again (its cookie as it was, not the signed-out one the server() just sent). */
    const stolen = web.copy()
    const create = await stolen.request('/tasks', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ name: 'Stolen', model: 'lipsync', _csrf: csrf }).toString(),
    })
    assert.isAtLeast(create.status, 300)
    assert.notMatch(create.headers.get('location') ?? '', /^\/tasks\//)
    assert.lengthOf(await Task.query().where('user_id', user.id), 0)
  })

  test('"Log out other devices" ends every other session and keeps this one', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const laptop = await logIn(server(), user.email)
    const phone = await logIn(server(), user.email)
    const copyOfLaptop = laptop.copy()

    const page = await (await laptop.get('/tasks')).text()
    assert.include(page, 'action="/logout/other-devices"')
    const done = await post(laptop, '/tasks', '/logout/other-devices')
    assert.equal(done.status, 302)

    const after = await laptop.get('/tasks')
    assert.equal(after.status, 200)
    assert.include(await after.text(), 'Your other devices have been logged out.')
    assert.equal((await phone.get('/tasks')).headers.get('location'), '/login')
    /* A copy of this device's cookies from before the click is "another device" too. */
    assert.equal((await copyOfLaptop.get('/tasks')).headers.get('location'), '/login')

    /* The phone can simply log in again. */
    const again = await logIn(server(), user.email)
    assert.equal((await again.get('/tasks')).status, 200)
    assert.equal((await laptop.get('/tasks')).status, 200)
  })
})

test.group('Session guard (revoked ids, idle sessions)', (group) => {
  freshState(group)

  test('a revoked session id is refused; the check writes nothing', async ({ client, assert }) => {
    const user = await createUser()
    await sessionGuard.revoke(fakeSession({ [SESSION_KEYS.id]: 'revoked-sid' }), user)
    const before = await db.from('revoked_sessions').count('* as n').first()

    const response = await signedIn(client.get('/tasks'), user, {
      [SESSION_KEYS.id]: 'revoked-sid',
    }).redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/login')
    assert.deepEqual(await db.from('revoked_sessions').count('* as n').first(), before)

    const other = await signedIn(client.get('/tasks'), user).redirects(0)
    other.assertStatus(200)
  })

  test('a session without a session id (from before ids) or idle for 7 days ends', async ({
    client,
  }) => {
    const user = await createUser()
    for (const overrides of [
      { [SESSION_KEYS.id]: undefined },
      { [SESSION_KEYS.seenAt]: undefined },
      { [SESSION_KEYS.seenAt]: Date.now() - IDLE_LIMIT_MS - 60_000 },
    ]) {
      const response = await signedIn(client.get('/tasks'), user, overrides).redirects(0)
      response.assertStatus(302)
      response.assertHeader('location', '/login')
    }
    const active = await signedIn(client.get('/tasks'), user, {
      [SESSION_KEYS.seenAt]: Date.now() - IDLE_LIMIT_MS + 3_600_000,
    }).redirects(0)
    active.assertStatus(200)
  })

  test('a used session stays alive: each request moves its last-seen time', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const old = Date.now() - 3_600_000
    const response = await signedIn(client.get('/tasks'), user, { [SESSION_KEYS.seenAt]: old })
    response.assertStatus(200)
    assert.isAbove(Number(response.session()[SESSION_KEYS.seenAt]), old)
  })

  test('revocation rows are pruned once no copy could still be in use', async ({ assert }) => {
    const user = await createUser()
    await sessionGuard.revoke(fakeSession({ [SESSION_KEYS.id]: 'old-sid' }), user)
    travel(IDLE_LIMIT_MS + 2 * 24 * 3600 * 1000)
    await sessionGuard.revoke(fakeSession({ [SESSION_KEYS.id]: 'new-sid' }), user)
    const rows = await db.from('revoked_sessions').select('sid')
    assert.deepEqual(
      rows.map((row) => row.sid),
      ['new-sid']
    )
  })

  test('logout and "log out other devices" need a signed-in POST with a CSRF token', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const version = user.sessionVersion
    const noCsrf = await signedIn(client.post('/logout/other-devices'), user).redirects(0)
    assert.notEqual(noCsrf.status(), 200)
    const signedOut = await client.post('/logout/other-devices').withCsrfToken().redirects(0)
    signedOut.assertHeader('location', '/login')
    const get = await signedIn(client.get('/logout/other-devices'), user).redirects(0)
    get.assertStatus(404)
    await user.refresh()
    assert.equal(user.sessionVersion, version)
  })
})

/** Just enough of a session for SessionGuard.revoke. */
function fakeSession(values: Record<string, unknown>) {
  return { get: (key: string) => values[key] } as unknown as Session
}
