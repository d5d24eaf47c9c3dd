import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { freshState } from '#tests/helpers/db'
import { createUser, TEST_PASSWORD as PASSWORD } from '#tests/helpers/users'
import { linkFromLatestMail, mailsTo, pathOf } from '#tests/helpers/mailbox'
import { serveAppFor, WebClient, type AppProcess } from '#tests/helpers/app_process'

const WRONG = 'not the password'

/*
 * A real server behind a trusted proxy, so every attempt can come from its
 * own client IP (X-Forwarded-For): the per-IP limits never trigger, only
 * the per-account one. Cookies as a browser keeps them (the device cookie).
 */
let nextIp = 1
function freshIp() {
  nextIp += 1
  return `198.51.${Math.floor(nextIp / 250)}.${(nextIp % 250) + 1}`
}

async function login(web: WebClient, email: string, password: string, ip = freshIp()) {
  const csrf = await web.csrfToken('/login')
  const response = await web.request('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
    body: new URLSearchParams({ email, password, _csrf: csrf }).toString(),
  })
  return { status: response.status, location: response.headers.get('location'), response }
}

/** `count` wrong passwords for `email`, each from a new browser and a new IP. */
async function attack(server: AppProcess, email: string, count: number) {
  for (let index = 0; index < count; index++) {
    const attempt = await login(new WebClient(server), email, WRONG)
    if (attempt.status !== 302 || attempt.location !== '/login') {
      throw new Error(`attempt ${index + 1} answered ${attempt.status} ${attempt.location}`)
    }
  }
}

async function logOut(web: WebClient) {
  const out = await web.submit('/tasks', '/logout', {})
  if (out.headers.get('location') !== '/login') throw new Error('logout failed')
}

const throttleMails = (email: string) =>
  db.from('mail_outbox').where({ kind: 'login_throttled', to_address: email })

test.group('Login throttle per account, across IPs', (group) => {
  freshState(group)
  const server = serveAppFor(group, { SESSION_DRIVER: 'cookie', TRUSTED_PROXIES: '127.0.0.1' })

  test('20 wrong passwords from 20 IPs pause logins from new devices; one mail to the owner', async ({
    assert,
  }) => {
    const user = await createUser({ email: 'target@example.com', password: PASSWORD })
    await attack(server(), user.email, 20)

    /* The right password, from a new device and a new IP: refused, with a clear message. */
    const blocked = await login(new WebClient(server()), user.email, PASSWORD)
    assert.equal(blocked.status, 429)
    assert.isAbove(Number(blocked.response.headers.get('retry-after')), 0)
    const page = await blocked.response.text()
    assert.include(page, 'Too many failed logins for this account')
    assert.include(page, 'a device you have logged in with before')
    assert.include(page, 'href="/forgot-password"')

    const more = await login(new WebClient(server()), user.email, WRONG)
    assert.equal(more.status, 429)
    const alerts = await throttleMails(user.email)
    assert.lengthOf(alerts, 1, 'one mail per block, however many attempts')
    const [mail] = await mailsTo(user.email)
    assert.equal(mail.subject, 'Failed logins to your vgen account')
    assert.include(mail.text, '20')
  })

  test('the owner still logs in from a device used before, during the block', async ({
    assert,
  }) => {
    const user = await createUser({ email: 'owner@example.com', password: PASSWORD })
    const laptop = new WebClient(server())
    assert.equal((await login(laptop, user.email, PASSWORD)).location, '/tasks')
    await logOut(laptop)

    await attack(server(), user.email, 20)
    assert.equal((await login(new WebClient(server()), user.email, PASSWORD)).status, 429)

    const again = await login(laptop, user.email, PASSWORD)
    assert.equal(again.location, '/tasks')
    assert.equal((await laptop.get('/tasks')).status, 200)

    /* The device is known for that account only: another paused account stays paused on it. */
    await logOut(laptop)
    const other = await createUser({ email: 'other@example.com', password: PASSWORD })
    await attack(server(), other.email, 20)
    assert.equal((await login(laptop, other.email, PASSWORD)).status, 429)
  })

  test('a known device has its own limit: its failures never block the account', async ({
    assert,
  }) => {
    const user = await createUser({ email: 'device@example.com', password: PASSWORD })
    const laptop = new WebClient(server())
    await login(laptop, user.email, PASSWORD)
    await logOut(laptop)
    for (let index = 0; index < 10; index++) await login(laptop, user.email, WRONG)
    const tooMany = await login(laptop, user.email, PASSWORD)
    assert.equal(tooMany.status, 429)
    assert.include(await tooMany.response.text(), 'Too many failed logins on this device')

    assert.equal((await login(new WebClient(server()), user.email, PASSWORD)).location, '/tasks')
    assert.lengthOf(await throttleMails(user.email), 0)
  })

  test('an unknown email is throttled the same way (no enumeration) and mails nobody', async ({
    assert,
  }) => {
    await attack(server(), 'nobody@example.com', 20)
    const blocked = await login(new WebClient(server()), 'nobody@example.com', PASSWORD)
    assert.equal(blocked.status, 429)
    assert.include(await blocked.response.text(), 'Too many failed logins for this account')
    assert.lengthOf(await db.from('mail_outbox'), 0)
  })

  test('resetting the password by mail lifts the block for new devices', async ({ assert }) => {
    const user = await createUser({ email: 'reset@example.com', password: PASSWORD })
    await attack(server(), user.email, 20)
    const web = new WebClient(server())
    await web.submit('/forgot-password', '/forgot-password', { email: user.email })
    const reset = pathOf(await linkFromLatestMail(user.email, '/reset-password/'))
    const changed = await web.submit(reset, reset, {
      password: 'a brand new password',
      passwordConfirmation: 'a brand new password',
    })
    assert.equal(changed.status, 302)
    const after = await login(web, user.email, 'a brand new password')
    assert.equal(after.location, '/tasks')
  })
})
