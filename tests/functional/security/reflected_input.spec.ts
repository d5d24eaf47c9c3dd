import { test } from '@japa/runner'
import type { ApiClient } from '@japa/api-client'
import { freshState } from '#tests/helpers/db'
import { mailsTo } from '#tests/helpers/mailbox'
import { createUser } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'
import { media } from '#tests/helpers/media'
import { putTo } from '#tests/functional/tasks/helpers'
import { REFLECTED_CORPUS, assertInert } from '#tests/helpers/hostile_input'
import { displayName } from '#services/tasks/upload_service'
import taskService from '#services/tasks/task_service'
import { queueMail } from '#services/mail_outbox'
import type User from '#models/user'

/*
 * Every value a visitor can get echoed back into a page (query strings, old
 * input after a validation error, stored names) goes through the hostile
 * corpus: it must come back as text, never as markup. A new form or page
 * that echoes input adds its echo point here.
 */

/** Submits a form that fails validation and returns the page it bounces back to. */
async function bounce(
  client: ApiClient,
  path: string,
  form: Record<string, string>,
  user?: User,
  from = path
) {
  const request = client.post(path).header('referer', from).form(form).withCsrfToken()
  const response = await (user ? signedIn(request, user) : request)
  response.assertStatus(200)
  return response.text()
}

test.group('Reflected input: signed-out forms', (group) => {
  freshState(group)

  test('GET /login?email= is echoed as text', async ({ client }) => {
    for (const payload of REFLECTED_CORPUS) {
      const response = await client.get('/login').qs({ email: payload })
      response.assertStatus(200)
      assertInert(response.text(), payload)
    }
  })

  test('old input after a validation error on login, signup and forgot password', async ({
    client,
  }) => {
    for (const payload of REFLECTED_CORPUS) {
      assertInert(await bounce(client, '/login', { email: payload, password: 'x' }), payload)
      assertInert(
        await bounce(client, '/signup', {
          email: payload,
          password: 'correct horse battery',
          passwordConfirmation: 'correct horse battery',
        }),
        payload
      )
      assertInert(await bounce(client, '/forgot-password', { email: payload }), payload)
    }
  })

  test('a valid address with quote characters, after a wrong password', async ({ client }) => {
    const email = "o'neil`{x}&y@example.com"
    const response = await client
      .post('/login')
      .header('referer', '/login')
      .form({ email, password: 'wrong password' })
      .withCsrfToken()
    response.assertStatus(200)
    response.assertTextIncludes('Invalid email or password.')
    assertInert(response.text(), email)
  })

  test('an address with quote characters is text in the mails it gets', async ({
    client,
    assert,
  }) => {
    const email = "o'neil`{x}&y@example.com"
    await client
      .post('/signup')
      .form({
        email,
        password: 'correct horse battery',
        passwordConfirmation: 'correct horse battery',
      })
      .withCsrfToken()
      .redirects(0)
    await client
      .post('/signup')
      .form({
        email,
        password: 'correct horse battery',
        passwordConfirmation: 'correct horse battery',
      })
      .withCsrfToken()
      .redirects(0)
    const mails = await mailsTo(email)
    assert.lengthOf(mails, 2)
    for (const mail of mails) assertInert(mail.html, email)
  })

  test('query strings on other pages are never turned into markup', async ({ client }) => {
    const pages = ['/signup', '/forgot-password', '/forgot-password/sent', '/signup/check-email']
    for (const payload of REFLECTED_CORPUS) {
      for (const page of pages) {
        const response = await client.get(page).qs({ email: payload, next: payload, q: payload })
        response.assertStatus(200)
        assertInert(response.text(), payload, null)
      }
      const link = await client.get(`/reset-password/${encodeURIComponent(payload)}`)
      assertInert(link.text(), payload, null)
    }
  })
})

test.group('Reflected input: signed-in pages', (group) => {
  freshState(group)

  test('task names (stored) on the task page and the dashboard', async ({ client, assert }) => {
    const user = await createUser()
    for (const payload of REFLECTED_CORPUS) {
      const created = await signedIn(client.post('/tasks'), user)
        .form({ name: payload, model: 'lipsync' })
        .withCsrfToken()
      created.assertStatus(200)
      assertInert(created.text(), payload)
    }
    const dashboard = await signedIn(client.get('/tasks'), user)
    for (const payload of REFLECTED_CORPUS) assertInert(dashboard.text(), payload)
    assert.lengthOf(await taskService.list(user.id, 1).then((page) => page.tasks.all()), 10)
  })

  test('task rename: the saved name and the old input after an error', async ({ client }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Plain', model: 'lipsync' })
    for (const payload of REFLECTED_CORPUS) {
      const renamed = await signedIn(client.post(`/tasks/${task.id}/rename`), user)
        .header('referer', `/tasks/${task.id}`)
        .form({ name: payload })
        .withCsrfToken()
      renamed.assertStatus(200)
      assertInert(renamed.text(), payload)

      /* Too long: refused, the typed value comes back in the field. */
      const tooLong = `${payload}${'x'.repeat(130)}`
      const form = { name: tooLong }
      assertInert(
        await bounce(client, `/tasks/${task.id}/rename`, form, user, `/tasks/${task.id}`),
        tooLong
      )
    }
  })

  test('task names in the run mails (success and failure)', async ({ assert }) => {
    const user = await createUser({ email: 'runs-mail@example.com' })
    for (const [index, payload] of REFLECTED_CORPUS.entries()) {
      for (const kind of ['run_succeeded', 'run_failed']) {
        await queueMail({
          kind,
          to: user.email,
          userId: user.id,
          dedupeKey: `test:${kind}:${index}`,
          payload: { taskName: payload, taskId: 'task', number: 1, cost: 10, error: payload },
        })
      }
    }
    const mails = await mailsTo(user.email)
    assert.lengthOf(mails, REFLECTED_CORPUS.length * 2)
    for (const mail of mails) {
      const payload = REFLECTED_CORPUS.find((candidate) => mail.text.includes(candidate))
      assert.isDefined(payload, mail.subject)
      assertInert(mail.html, payload!)
    }
  })

  test('new task form: old input after an error', async ({ client }) => {
    const user = await createUser()
    for (const payload of REFLECTED_CORPUS) {
      const html = await bounce(
        client,
        '/tasks',
        { name: payload, model: 'bogus' },
        user,
        '/tasks/new'
      )
      assertInert(html, payload)
    }
  })

  test('uploaded file names on the task page', async ({ client }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Uploads', model: 'restyle' })
    const video = await media('video.mp4')
    for (const payload of REFLECTED_CORPUS) {
      const name = `${payload}.mp4`
      const upload = await putTo(client, user, task.id, 'video', video, name)
      upload.assertStatus(201)
      const page = await signedIn(client.get(`/tasks/${task.id}`), user)
      assertInert(page.text(), payload, displayName(name, 'video.mp4'))
    }
  })

  test('query strings on signed-in pages are never turned into markup', async ({ client }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Query', model: 'lipsync' })
    const pages = ['/tasks', '/tasks/new', '/tokens', '/usage', '/account', `/tasks/${task.id}`]
    for (const payload of REFLECTED_CORPUS) {
      for (const page of pages) {
        const response = await signedIn(client.get(page), user).qs({ page: payload, q: payload })
        response.assertStatus(200)
        assertInert(response.text(), payload, null)
      }
    }
  })
})
