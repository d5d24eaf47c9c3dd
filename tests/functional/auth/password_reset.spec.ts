import { test } from '@japa/runner'
import hash from '@adonisjs/core/services/hash'
import User from '#models/user'
import { freshState, travel } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { linkFromLatestMail, mailsTo, pathOf } from '#tests/helpers/mailbox'
import { signedIn } from '#tests/helpers/auth'

const OLD = 'correct horse battery'
const NEW = 'new staple password'

function requestReset(client: any, email: string) {
  return client.post('/forgot-password').form({ email }).withCsrfToken().redirects(0)
}

function submitReset(client: any, link: string, password = NEW, confirmation = password) {
  return client
    .post(pathOf(link))
    .header('referer', pathOf(link))
    .form({ password, passwordConfirmation: confirmation })
    .withCsrfToken()
    .redirects(0)
}

test.group('Password reset', (group) => {
  freshState(group)

  test('the full reset: mail, form, new password works, old does not', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ email: 'reset@example.com', password: OLD })
    const response = await requestReset(client, 'Reset@Example.com')
    response.assertHeader('location', '/forgot-password/sent')

    const link = await linkFromLatestMail('reset@example.com', '/reset-password/')
    const form = await client.get(pathOf(link))
    form.assertStatus(200)
    form.assertTextIncludes('name="passwordConfirmation"')

    const done = await submitReset(client, link)
    done.assertStatus(302)
    done.assertHeader('location', '/login?email=reset%40example.com')

    await user.refresh()
    assert.isTrue(await hash.verify(user.password, NEW))
    assert.isFalse(await hash.verify(user.password, OLD))
  })

  test('opening the link does not spend it; the POST does, once', async ({ client }) => {
    await createUser({ email: 'once@example.com', password: OLD })
    await requestReset(client, 'once@example.com')
    const link = await linkFromLatestMail('once@example.com', '/reset-password/')
    await client.get(pathOf(link))
    await client.get(pathOf(link))
    ;(await submitReset(client, link)).assertStatus(302)
    const reuse = await submitReset(client, link, 'another password 1')
    reuse.assertStatus(410)
    reuse.assertTextIncludes('already used')
    ;(await client.get(pathOf(link))).assertStatus(410)
  })

  test('a newer link supersedes the older one', async ({ client }) => {
    await createUser({ email: 'newer@example.com', password: OLD })
    await requestReset(client, 'newer@example.com')
    const first = await linkFromLatestMail('newer@example.com', '/reset-password/')
    await new Promise((resolve) => setTimeout(resolve, 5))
    await requestReset(client, 'newer@example.com')
    const second = await linkFromLatestMail('newer@example.com', '/reset-password/')
    ;(await submitReset(client, first)).assertStatus(404)
    ;(await submitReset(client, second)).assertStatus(302)
  })

  test('an expired link is refused', async ({ client, assert }) => {
    const user = await createUser({ email: 'expired@example.com', password: OLD })
    await requestReset(client, 'expired@example.com')
    const link = await linkFromLatestMail('expired@example.com', '/reset-password/')
    travel(25 * 3600 * 1000)
    ;(await client.get(pathOf(link))).assertStatus(410)
    ;(await submitReset(client, link)).assertStatus(410)
    await user.refresh()
    assert.isTrue(await hash.verify(user.password, OLD))
  })

  test('an unactivated email gets an activation link; an unknown email the same answer', async ({
    client,
    assert,
  }) => {
    await createUser({ email: 'inactive@example.com', status: 'new' })
    const known = await requestReset(client, 'inactive@example.com')
    const unknown = await requestReset(client, 'nobody@example.com')
    assert.equal(known.header('location'), unknown.header('location'))
    const mails = await mailsTo('inactive@example.com')
    assert.lengthOf(mails, 1)
    assert.equal(mails[0].subject, 'Activate your vgen account')
    assert.lengthOf(await mailsTo('nobody@example.com'), 0)
  })

  test('mismatched or short passwords are refused and change nothing', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ email: 'mismatch@example.com', password: OLD })
    await requestReset(client, 'mismatch@example.com')
    const link = await linkFromLatestMail('mismatch@example.com', '/reset-password/')
    for (const [password, confirmation] of [
      [NEW, 'different one'],
      ['short', 'short'],
      ['p'.repeat(10_000), 'p'.repeat(10_000)],
    ]) {
      const response = await submitReset(client, link, password, confirmation)
      response.assertStatus(302)
      response.assertHeader('location', pathOf(link))
    }
    await user.refresh()
    assert.isTrue(await hash.verify(user.password, OLD))
    ;(await submitReset(client, link)).assertStatus(302)
  })

  test('a reset ends the user’s other sessions', async ({ client }) => {
    const user = await createUser({ email: 'sessions@example.com', password: OLD })
    const staleVersion = user.sessionVersion
    ;(await signedIn(client.get('/tasks'), user)).assertStatus(200)

    await requestReset(client, 'sessions@example.com')
    const link = await linkFromLatestMail('sessions@example.com', '/reset-password/')
    await submitReset(client, link)

    const fresh = await User.findOrFail(user.id)
    const stale = await signedIn(client.get('/tasks'), fresh, { sv: staleVersion }).redirects(0)
    stale.assertStatus(302)
    stale.assertHeader('location', '/login')
  })

  test('reset requests are throttled per IP', async ({ client }) => {
    for (let index = 0; index < 10; index++) await requestReset(client, `r${index}@example.com`)
    const response = await requestReset(client, 'last@example.com')
    response.assertStatus(429)
  })
})
