import { test } from '@japa/runner'
import env from '#start/env'
import User from '#models/user'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { mailsTo } from '#tests/helpers/mailbox'

const PASSWORD = 'correct horse battery'

test.group('Sign up', (group) => {
  freshState(group)

  test('renders the sign-up form', async ({ client }) => {
    const response = await client.get('/signup')
    response.assertStatus(200)
    response.assertTextIncludes('name="email"')
    response.assertTextIncludes('name="passwordConfirmation"')
    response.assertTextIncludes("name='_csrf'")
  })

  test('creates a new user and mails an activation link', async ({ client, assert }) => {
    const response = await client
      .post('/signup')
      .form({
        email: '  New.User@Example.COM ',
        password: PASSWORD,
        passwordConfirmation: PASSWORD,
      })
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/signup/check-email')

    const user = await User.findByOrFail('email', 'new.user@example.com')
    assert.equal(user.status, 'new')
    assert.equal(user.balance, 0)
    assert.notEqual(user.password, PASSWORD)
    assert.match(user.id, /^[0-9a-f-]{36}$/)

    const mails = await mailsTo('new.user@example.com')
    assert.lengthOf(mails, 1)
    assert.equal(mails[0].subject, 'Activate your vgen account')
    assert.include(mails[0].text, `${env.get('APP_URL')}/activate/`)
    assert.match(mails[0].text, /\/activate\/[\w-]{40,}/)
    assert.include(mails[0].html, '/activate/')

    const page = await client.get('/signup/check-email')
    page.assertTextIncludes('Check your email')
  })

  test('an existing email gets the same answer and a mail to the owner', async ({
    client,
    assert,
  }) => {
    await createUser({ email: 'owner@example.com' })
    const response = await client
      .post('/signup')
      .form({ email: ' OWNER@example.com', password: PASSWORD, passwordConfirmation: PASSWORD })
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/signup/check-email')
    assert.equal(
      await User.query()
        .where('email', 'owner@example.com')
        .count('* as n')
        .first()
        .then((r) => Number(r!.$extras.n)),
      1
    )
    const mails = await mailsTo('owner@example.com')
    assert.lengthOf(mails, 1)
    assert.equal(mails[0].subject, 'You already have a vgen account')
  })

  test('rejects bad input with form errors and creates nothing', async ({ client, assert }) => {
    const cases = [
      {},
      { email: 'not-an-email', password: PASSWORD, passwordConfirmation: PASSWORD },
      {
        email: `${'a'.repeat(10_000)}@example.com`,
        password: PASSWORD,
        passwordConfirmation: PASSWORD,
      },
      { email: 'x@example.com', password: 'short', passwordConfirmation: 'short' },
      {
        email: 'x@example.com',
        password: 'p'.repeat(10_000),
        passwordConfirmation: 'p'.repeat(10_000),
      },
      { email: 'x@example.com', password: PASSWORD, passwordConfirmation: 'something else' },
      { email: "x@example.com' OR 1=1 --", password: PASSWORD, passwordConfirmation: PASSWORD },
      { email: 'üñî©ødé@exämple.com', password: PASSWORD, passwordConfirmation: PASSWORD },
    ]
    for (const form of cases) {
      const response = await client
        .post('/signup')
        .header('referer', '/signup')
        .form(form)
        .withCsrfToken()
        .redirects(0)
      assert.equal(response.status(), 302, JSON.stringify(form).slice(0, 80))
      assert.equal(response.header('location'), '/signup')
      assert.isDefined(response.flashMessages().inputErrorsBag)
    }
    assert.lengthOf(await User.all(), 0)
  })

  test('shows field errors on the form after a bad submit', async ({ client }) => {
    const response = await client
      .post('/signup')
      .header('referer', '/signup')
      .form({ email: 'not-an-email', password: 'short', passwordConfirmation: 'nope' })
      .withCsrfToken()
    response.assertStatus(200)
    response.assertTextIncludes('field-error')
    response.assertTextIncludes('value="not-an-email"')
  })

  test('a missing CSRF token is refused and creates nothing', async ({ client, assert }) => {
    const response = await client
      .post('/signup')
      .form({ email: 'csrf@example.com', password: PASSWORD, passwordConfirmation: PASSWORD })
      .redirects(0)
    assert.isBelow(response.status(), 500)
    assert.isAtLeast(response.status(), 300)
    assert.isNull(await User.findBy('email', 'csrf@example.com'))
  })

  test('sign-ups are throttled per IP with Retry-After', async ({ client }) => {
    for (let index = 0; index < 10; index++) {
      await client
        .post('/signup')
        .form({
          email: `t${index}@example.com`,
          password: PASSWORD,
          passwordConfirmation: PASSWORD,
        })
        .withCsrfToken()
        .redirects(0)
    }
    const response = await client
      .post('/signup')
      .form({ email: 'late@example.com', password: PASSWORD, passwordConfirmation: PASSWORD })
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(429)
    response.assertTextIncludes('Too many attempts')
    response.assertHeader('retry-after', response.header('retry-after'))
    if (!(Number(response.header('retry-after')) > 0)) throw new Error('Retry-After missing')
  })
})
