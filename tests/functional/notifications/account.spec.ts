import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import hash from '@adonisjs/core/services/hash'
import User from '#models/user'
import Run from '#models/run'
import mediaStorage from '#integrations/storage/media_storage'
import taskService from '#services/tasks/task_service'
import { deletedEmail } from '#services/account_deletion'
import { freshState } from '#tests/helpers/db'
import { createUser, TEST_PASSWORD as PASSWORD } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'
import { deliverMails, mailsTo } from '#tests/helpers/mailbox'
import { assertLedgerInvariant } from '#tests/helpers/invariants'
import { seededTask } from '#tests/functional/tasks/helpers'
import { serveAppFor, WebClient, type AppProcess } from '#tests/helpers/app_process'

async function logIn(server: AppProcess, email: string, password = PASSWORD) {
  const web = new WebClient(server)
  const login = await web.submit('/login', '/login', { email, password })
  return { web, location: login.headers.get('location') }
}

test.group('Account page', (group) => {
  freshState(group)

  test('shows email, status, member since and balance, with the forms; signed out → login', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ balance: 1234, email: 'me+<b>@example.com' })
    const page = await signedIn(client.get('/account'), user)
    page.assertStatus(200)
    for (const part of [
      'me+&lt;b&gt;@example.com',
      'Active',
      'Member since',
      '1,234 tokens',
      'name="currentPassword"',
      'name="passwordConfirmation"',
      'action="/account/password"',
      'action="/account/delete"',
      'action="/logout/other-devices"',
      'name="notifyRuns"',
      'href="/account"',
    ]) {
      assert.include(page.text(), part)
    }
    assert.notInclude(page.text(), 'me+<b>')
    assert.match(
      page.text(),
      /<time datetime="[^"]+Z" data-local-time>\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC<\/time>/
    )
    const out = await client.get('/account').redirects(0)
    out.assertHeader('location', '/login')
  })

  test('notification switches: unchecked is off, checked is on, nonsense is refused', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    assert.isTrue(user.notifyRuns)
    const off = await signedIn(client.post('/account/notifications'), user)
      .form({})
      .withCsrfToken()
      .redirects(0)
    off.assertStatus(302)
    await user.refresh()
    assert.isFalse(user.notifyRuns)
    assert.isFalse(user.notifyLowBalance)

    await signedIn(client.post('/account/notifications'), user)
      .form({ notifyRuns: 'true' })
      .withCsrfToken()
      .redirects(0)
    await user.refresh()
    assert.isTrue(user.notifyRuns)
    assert.isFalse(user.notifyLowBalance)

    const bad = await signedIn(client.post('/account/notifications'), user)
      .form({ notifyRuns: 'maybe', notifyLowBalance: 'true' })
      .withCsrfToken()
      .redirects(0)
    bad.assertStatus(302)
    await user.refresh()
    assert.isTrue(user.notifyRuns)
    assert.isFalse(user.notifyLowBalance, 'a refused form changes nothing')
  })

  test('a wrong current password changes nothing and says so; bad new passwords are refused', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const before = (await User.findOrFail(user.id)).password
    for (const fields of [
      {
        currentPassword: 'wrong password!',
        password: 'brand new pass',
        passwordConfirmation: 'brand new pass',
      },
      { currentPassword: PASSWORD, password: 'short', passwordConfirmation: 'short' },
      {
        currentPassword: PASSWORD,
        password: 'brand new pass',
        passwordConfirmation: 'other new pass',
      },
      { currentPassword: '', password: 'brand new pass', passwordConfirmation: 'brand new pass' },
      {
        currentPassword: 'x'.repeat(10_000),
        password: 'brand new pass',
        passwordConfirmation: 'brand new pass',
      },
    ]) {
      const response = await signedIn(client.post('/account/password'), user)
        .form(fields)
        .withCsrfToken()
        .redirects(0)
      response.assertStatus(302)
    }
    const wrong = await signedIn(client.post('/account/password'), user)
      .header('accept', 'application/json')
      .form({
        currentPassword: 'nope nope',
        password: 'brand new pass',
        passwordConfirmation: 'brand new pass',
      })
      .withCsrfToken()
    wrong.assertStatus(400)
    assert.equal(
      wrong.body().error.message,
      'Your current password is not correct. Nothing was changed.'
    )
    const after = await User.findOrFail(user.id)
    assert.equal(after.password, before)
    assert.equal(after.sessionVersion, user.sessionVersion)
    assert.lengthOf(await mailsTo(user.email), 0)
  })

  test('deletion is refused with a wrong password and while a run is active', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD, balance: 1000 })
    const task = await seededTask(user)
    const wrong = await signedIn(client.post('/account/delete'), user)
      .header('accept', 'application/json')
      .form({ password: 'not my password' })
      .withCsrfToken()
    wrong.assertStatus(400)

    await taskService.launch(user.id, task.id)
    const busy = await signedIn(client.post('/account/delete'), user)
      .header('accept', 'application/json')
      .form({ password: PASSWORD })
      .withCsrfToken()
    busy.assertStatus(409)
    assert.include(busy.body().error.message, 'A run is still in progress')
    const page = await signedIn(client.post('/account/delete'), user)
      .form({ password: PASSWORD })
      .withCsrfToken()
      .redirects(0)
    page.assertHeader('location', '/account')
    const kept = await User.findOrFail(user.id)
    assert.equal(kept.email, user.email)
    assert.isNull(kept.deletedAt)
    assert.isTrue(await mediaStorage.exists(`tasks/${task.id}/inputs/video.mp4`))
  })

  test('deletion removes files and personal data, keeps the ledger, mails the old address', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD, balance: 1000 })
    const task = await seededTask(user)
    const run = await taskService.launch(user.id, task.id)
    await Run.query()
      .where('id', run.id)
      .update({ status: 'succeeded', output_key: `tasks/${task.id}/runs/${run.id}/output.mp4` })
    await mediaStorage.putStream(
      `tasks/${task.id}/runs/${run.id}/output.mp4`,
      (await import('node:stream')).Readable.from([Buffer.from('clip')])
    )
    const ledgerBefore = await db
      .from('ledger_entries')
      .where('user_id', user.id)
      .count('* as n')
      .first()
    const oldEmail = user.email

    const response = await signedIn(client.post('/account/delete'), user)
      .form({ password: PASSWORD })
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/login')

    const row = await db.from('users').where('id', user.id).first()
    assert.equal(row.email, deletedEmail(user.id))
    assert.notInclude(JSON.stringify(row), oldEmail)
    assert.isNotNull(row.deleted_at)
    assert.isFalse(
      await hash
        .use('scrypt')
        .verify(row.password, PASSWORD)
        .catch(() => false)
    )
    assert.lengthOf(await db.from('tasks').where('user_id', user.id), 0)
    assert.isFalse(await mediaStorage.exists(`tasks/${task.id}/inputs/video.mp4`))
    assert.isFalse(await mediaStorage.exists(`tasks/${task.id}/runs/${run.id}/output.mp4`))
    const ledgerAfter = await db
      .from('ledger_entries')
      .where('user_id', user.id)
      .count('* as n')
      .first()
    assert.equal(Number(ledgerAfter.n), Number(ledgerBefore.n))
    assert.isAbove(Number(ledgerAfter.n), 0)
    const events = await db
      .from('outbox_events')
      .whereRaw(`json_extract(payload, '$.userid') = ?`, [user.id])
    assert.isAbove(events.length, 0, 'analytics rows stay')
    assert.notInclude(JSON.stringify(events), oldEmail)
    await assertLedgerInvariant(assert)

    const mails = await mailsTo(oldEmail)
    assert.lengthOf(mails, 1)
    assert.equal(mails[0].subject, 'Your vgen account was deleted')
    assert.lengthOf(
      await db
        .from('mail_outbox')
        .whereNot('kind', 'account_deleted')
        .where('to_address', oldEmail)
        .where('status', 'pending'),
      0
    )

    /* The old session is over; the old credentials log nobody in. */
    const again = await signedIn(client.get('/tasks'), await User.findOrFail(user.id)).redirects(0)
    again.assertStatus(302)
    const login = await client
      .post('/login')
      .form({ email: oldEmail, password: PASSWORD })
      .withCsrfToken()
      .redirects(0)
    login.assertHeader('location', '/login')
    await deliverMails()
  })
})

test.group('Account page with real sessions (cookie store)', (group) => {
  freshState(group)
  const server = serveAppFor(group, { SESSION_DRIVER: 'cookie' })

  test('a password change keeps this session, ends the other one and mails a notice', async ({
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    const here = await logIn(server(), user.email)
    const there = await logIn(server(), user.email)
    assert.equal(here.location, '/tasks')
    assert.equal((await there.web.get('/tasks')).status, 200)

    const change = await here.web.submit('/account', '/account/password', {
      currentPassword: PASSWORD,
      password: 'a brand new password',
      passwordConfirmation: 'a brand new password',
    })
    assert.equal(change.headers.get('location'), '/account')
    assert.equal((await here.web.get('/account')).status, 200, 'this session stays')
    const other = await there.web.get('/tasks')
    assert.equal(other.status, 302, 'the other session ended')
    assert.equal(other.headers.get('location'), '/login')

    assert.equal((await logIn(server(), user.email)).location, '/login', 'old password refused')
    assert.equal((await logIn(server(), user.email, 'a brand new password')).location, '/tasks')
    const mails = (await mailsTo(user.email)).filter((mail) =>
      mail.subject.includes('password was changed')
    )
    assert.lengthOf(mails, 1)
  })

  test('after deletion the account cannot log in and every session is over', async ({ assert }) => {
    const user = await createUser({ password: PASSWORD })
    const here = await logIn(server(), user.email)
    const there = await logIn(server(), user.email)
    const deleted = await here.web.submit('/account', '/account/delete', { password: PASSWORD })
    assert.equal(deleted.headers.get('location'), '/login')
    assert.equal((await there.web.get('/tasks')).status, 302)
    assert.equal((await here.web.get('/tasks')).status, 302)
    assert.equal((await logIn(server(), user.email)).location, '/login')
  })
})

test.group('Deleted accounts', (group) => {
  freshState(group)

  test('the placeholder address logs nobody in and answers like any wrong login', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ password: PASSWORD })
    await signedIn(client.post('/account/delete'), user)
      .form({ password: PASSWORD })
      .withCsrfToken()
      .redirects(0)
    for (const password of [PASSWORD, 'anything at all', '']) {
      const login = await client
        .post('/login')
        .form({ email: deletedEmail(user.id), password })
        .withCsrfToken()
        .redirects(0)
      login.assertStatus(302)
      /* Back to the form (a refused login or a refused field), never into the app. */
      assert.notEqual(login.header('location'), '/tasks')
    }
    /* Deleting twice: the session is gone, nothing to delete. */
    const again = await signedIn(client.post('/account/delete'), await User.findOrFail(user.id))
      .form({ password: PASSWORD })
      .withCsrfToken()
      .redirects(0)
    /* Signed out (blocked account): sent away, nothing changed. */
    again.assertStatus(302)
    assert.notEqual(again.header('location'), '/account')
    assert.equal((await User.findOrFail(user.id)).email, deletedEmail(user.id))
  })
})
