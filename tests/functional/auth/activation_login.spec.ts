import { test } from '@japa/runner'
import User from '#models/user'
import { freshState, travel } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { linkFromLatestMail, mailsTo, pathOf } from '#tests/helpers/mailbox'
import { signedIn } from '#tests/helpers/auth'
import accountService from '#services/account_service'

const PASSWORD = 'correct horse battery'

async function signUp(client: any, email: string) {
  await client
    .post('/signup')
    .form({ email, password: PASSWORD, passwordConfirmation: PASSWORD })
    .withCsrfToken()
    .redirects(0)
  return User.findByOrFail('email', email)
}

function login(client: any, email: string, password = PASSWORD) {
  return client.post('/login').form({ email, password }).withCsrfToken().redirects(0)
}

test.group('Activation', (group) => {
  freshState(group)

  test('the mailed link activates the account and leads to login with the email filled in', async ({
    client,
    assert,
  }) => {
    const user = await signUp(client, 'fresh@example.com')
    const link = await linkFromLatestMail('fresh@example.com', '/activate/')

    const response = await client.get(pathOf(link)).redirects(0)
    response.assertStatus(302)
    assert.equal(response.header('location'), '/login?email=fresh%40example.com')
    response.assertFlashMessage('success', 'Your account is activated. You can log in now.')

    await user.refresh()
    assert.equal(user.status, 'activated')

    const loginPage = await client.get('/login?email=fresh%40example.com')
    loginPage.assertTextIncludes('value="fresh@example.com"')
  })

  test('only a hash of the token is stored', async ({ client, assert }) => {
    await signUp(client, 'hash@example.com')
    const link = await linkFromLatestMail('hash@example.com', '/activate/')
    const token = link.split('/activate/')[1]
    const rows = await (await import('@adonisjs/lucid/services/db')).default.from('account_tokens')
    assert.lengthOf(rows, 1)
    assert.notEqual(rows[0].token_hash, token)
    assert.notInclude(JSON.stringify(rows), token)
  })

  test('a used link shows a clear page', async ({ client }) => {
    await signUp(client, 'twice@example.com')
    const link = await linkFromLatestMail('twice@example.com', '/activate/')
    await client.get(pathOf(link)).redirects(0)
    const again = await client.get(pathOf(link))
    again.assertStatus(410)
    again.assertTextIncludes('already used')
    again.assertTextIncludes('Send me a new link')
  })

  test('an expired link (after 24 h) does not activate', async ({ client, assert }) => {
    const user = await signUp(client, 'late@example.com')
    const link = await linkFromLatestMail('late@example.com', '/activate/')
    travel(24 * 3600 * 1000 + 60_000)
    const response = await client.get(pathOf(link))
    response.assertStatus(410)
    response.assertTextIncludes('expired')
    await user.refresh()
    assert.equal(user.status, 'new')
  })

  test('forged and truncated links do not activate', async ({ client, assert }) => {
    const user = await signUp(client, 'forged@example.com')
    const link = await linkFromLatestMail('forged@example.com', '/activate/')
    for (const path of [
      pathOf(link).slice(0, -5),
      '/activate/' + 'A'.repeat(43),
      "/activate/' OR 1=1 --",
      '/activate/' + 'x'.repeat(10_000),
      '/activate/%E2%9C%93',
    ]) {
      const response = await client.get(path)
      assert.oneOf(response.status(), [404, 414], path.slice(0, 40))
    }
    await user.refresh()
    assert.equal(user.status, 'new')
  })
})

test.group('Log in', (group) => {
  freshState(group)

  test('an activated user logs in, lands on the dashboard, and the session id changes', async ({
    client,
  }) => {
    await createUser({ email: 'ok@example.com', password: PASSWORD })
    const response = await login(client, ' OK@Example.com ')
    response.assertStatus(302)
    response.assertHeader('location', '/tasks')
  })

  test('goes back to the page asked for before login', async ({ client }) => {
    await createUser({ email: 'back@example.com', password: PASSWORD })
    const first = await client.get('/usage').redirects(0)
    first.assertStatus(302)
    first.assertHeader('location', '/login')
    const response = await client
      .post('/login')
      .withSession({ intended_url: '/usage' })
      .form({ email: 'back@example.com', password: PASSWORD })
      .withCsrfToken()
      .redirects(0)
    response.assertHeader('location', '/usage')
  })

  test('wrong credentials give one generic message', async ({ client }) => {
    await createUser({ email: 'known@example.com', password: PASSWORD })
    for (const [email, password] of [
      ['known@example.com', 'wrong password'],
      ['unknown@example.com', PASSWORD],
    ]) {
      const response = await login(client, email, password)
      response.assertStatus(302)
      response.assertHeader('location', '/login')
      response.assertFlashMessage('error', 'Invalid email or password.')
    }
  })

  test('an unactivated account cannot log in and gets a new activation mail', async ({
    client,
    assert,
  }) => {
    await createUser({ email: 'new@example.com', password: PASSWORD, status: 'new' })
    const response = await login(client, 'new@example.com')
    response.assertHeader('location', '/login')
    response.assertFlashMessage(
      'error',
      'Please verify your email first. We have just sent you a new activation link.'
    )
    const mails = await mailsTo('new@example.com')
    assert.lengthOf(mails, 1)
    assert.equal(mails[0].subject, 'Activate your vgen account')
  })

  test('a blocked account cannot log in', async ({ client }) => {
    await createUser({ email: 'blocked@example.com', password: PASSWORD, status: 'blocked' })
    const response = await login(client, 'blocked@example.com')
    response.assertFlashMessage('error', 'Your account is blocked. Please contact support.')
  })

  test('bad input gets form errors, never a 500', async ({ client, assert }) => {
    for (const form of [
      {},
      { email: 'x'.repeat(10_000), password: 'y' },
      { email: 'a@b.co', password: 'p'.repeat(10_000) },
      { email: "' OR '1'='1", password: "' OR '1'='1" },
    ]) {
      const response = await client
        .post('/login')
        .header('referer', '/login')
        .form(form)
        .withCsrfToken()
        .redirects(0)
      assert.equal(response.status(), 302)
      assert.equal(response.header('location'), '/login')
    }
  })

  test('login is throttled per email and IP', async ({ client }) => {
    await createUser({ email: 'brute@example.com', password: PASSWORD })
    for (let index = 0; index < 10; index++) await login(client, 'brute@example.com', 'nope nope')
    const response = await login(client, 'brute@example.com')
    response.assertStatus(429)
    response.assertTextIncludes('Too many attempts')
    if (!(Number(response.header('retry-after')) > 0)) throw new Error('Retry-After missing')
  })

  test('signed-out visitors of app pages go to login; signed-in visitors of auth pages go to the dashboard', async ({
    client,
  }) => {
    for (const path of ['/tasks', '/tokens', '/usage']) {
      const response = await client.get(path).redirects(0)
      response.assertStatus(302)
      response.assertHeader('location', '/login')
    }
    const user = await createUser()
    for (const path of ['/login', '/signup', '/forgot-password']) {
      const response = await signedIn(client.get(path), user).redirects(0)
      response.assertStatus(302)
      response.assertHeader('location', '/tasks')
    }
  })

  test('the dashboard shows the balance and the email in the header', async ({ client }) => {
    const user = await createUser({ email: 'header@example.com', balance: 12_345 })
    const response = await signedIn(client.get('/tasks'), user)
    response.assertStatus(200)
    response.assertTextIncludes('12,345')
    response.assertTextIncludes('header@example.com')
    response.assertTextIncludes('Log out')
  })

  test('logout ends the session', async ({ client }) => {
    const user = await createUser()
    const response = await signedIn(client.post('/logout'), user).withCsrfToken().redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/login')
  })

  test('blocking a user ends their live session at the next request', async ({ client }) => {
    const user = await createUser()
    const before = await signedIn(client.get('/tasks'), user)
    before.assertStatus(200)
    await accountService.setStatus(user, 'blocked')
    const after = await signedIn(client.get('/tasks'), user).redirects(0)
    after.assertStatus(302)
    after.assertHeader('location', '/login')
  })
})
