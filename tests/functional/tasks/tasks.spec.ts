import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'
import { assertLedgerInvariant } from '#tests/helpers/invariants'
import { media } from '#tests/helpers/media'
import Task from '#models/task'
import Run from '#models/run'
import TaskInput from '#models/task_input'
import mediaStorage from '#integrations/storage/media_storage'
import taskService from '#services/tasks/task_service'
import { uploadTo, readyTask } from '#tests/functional/tasks/helpers'

test.group('Tasks: dashboard, create, rename, delete', (group) => {
  freshState(group)

  test('signed-out visitors are sent to the login page', async ({ client }) => {
    const response = await client.get('/tasks').redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/login')
  })

  test('a new user sees an empty dashboard with a New task button', async ({ client }) => {
    const user = await createUser()
    const response = await signedIn(client.get('/tasks'), user)
    response.assertStatus(200)
    response.assertTextIncludes('You have no tasks yet.')
    response.assertTextIncludes('href="/tasks/new"')
  })

  test('creating a task makes a draft listed on the dashboard, newest first', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const form = await signedIn(client.get('/tasks/new'), user)
    form.assertTextIncludes('Lip sync · Standard')
    form.assertTextIncludes('Cinematic restyle')

    for (const name of ['First clip', 'Second clip']) {
      const response = await signedIn(client.post('/tasks'), user)
        .form({ name, model: 'lipsync' })
        .withCsrfToken()
        .redirects(0)
      response.assertStatus(302)
      const task = await Task.findByOrFail('name', name)
      response.assertHeader('location', `/tasks/${task.id}`)
    }

    const dashboard = await signedIn(client.get('/tasks'), user)
    const text = dashboard.text()
    assert.isBelow(text.indexOf('Second clip'), text.indexOf('First clip'))
    assert.include(text, 'Draft')
    assert.include(text, 'Lip sync · Standard')
  })

  test('bad task input is refused with messages and creates nothing', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    for (const form of [
      { name: '', model: 'lipsync' },
      { name: 'x'.repeat(121), model: 'lipsync' },
      { name: 'Nice', model: 'no-such-model' },
      { name: 'Nice' },
    ]) {
      const response = await signedIn(client.post('/tasks'), user)
        .header('referer', '/tasks/new')
        .form(form)
        .withCsrfToken()
        .redirects(0)
      response.assertStatus(302)
      response.assertHeader('location', '/tasks/new')
    }
    assert.equal(
      await Task.query()
        .count('* as n')
        .first()
        .then((r) => Number(r!.$extras.n)),
      0
    )
  })

  test("another user's task is a 404 everywhere", async ({ client, assert }) => {
    const owner = await createUser({ balance: 10_000 })
    const stranger = await createUser({ balance: 10_000 })
    const { task } = await readyTask(client, owner, 'lipsync')
    const run = await taskService.launch(owner.id, task.id)

    for (const path of [
      `/tasks/${task.id}`,
      `/tasks/${task.id}/status`,
      `/tasks/${task.id}/inputs/video`,
      `/tasks/${task.id}/runs/${run.id}/download`,
    ]) {
      const response = await signedIn(client.get(path), stranger)
      response.assertStatus(404)
    }
    for (const path of [
      `/tasks/${task.id}/rename`,
      `/tasks/${task.id}/delete`,
      `/tasks/${task.id}/runs`,
    ]) {
      const response = await signedIn(client.post(path), stranger)
        .form({ name: 'Mine now' })
        .withCsrfToken()
      response.assertStatus(404)
    }
    const upload = await uploadTo(client, stranger, task.id, 'video', await media('video.mp4'))
    upload.assertStatus(404)

    const dashboard = await signedIn(client.get('/tasks'), stranger)
    dashboard.assertTextIncludes('You have no tasks yet.')
    await task.refresh()
    assert.equal(task.name, 'My clip')
    assert.equal(
      await Run.query()
        .where('taskId', task.id)
        .count('* as n')
        .first()
        .then((r) => Number(r!.$extras.n)),
      1
    )
    assert.equal(await stranger.refresh().then((u) => u.balance), 10_000)
  })

  test('rename changes the name; a bad name changes nothing', async ({ client, assert }) => {
    const user = await createUser()
    const task = await taskService.create(user.id, { name: 'Old name', model: 'restyle' })
    const ok = await signedIn(client.post(`/tasks/${task.id}/rename`), user)
      .form({ name: '  New name  ' })
      .withCsrfToken()
      .redirects(0)
    ok.assertStatus(302)
    await task.refresh()
    assert.equal(task.name, 'New name')

    await signedIn(client.post(`/tasks/${task.id}/rename`), user)
      .header('referer', `/tasks/${task.id}`)
      .form({ name: '' })
      .withCsrfToken()
      .redirects(0)
    await task.refresh()
    assert.equal(task.name, 'New name')
  })

  test('delete removes the task and its files but keeps the ledger; not while a run is active', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ balance: 10_000 })
    const { task } = await readyTask(client, user, 'lipsync')
    const inputs = await TaskInput.query().where('taskId', task.id)
    const run = await taskService.launch(user.id, task.id)

    const blocked = await signedIn(client.post(`/tasks/${task.id}/delete`), user)
      .withCsrfToken()
      .redirects(0)
    blocked.assertStatus(302)
    blocked.assertFlashMessage(
      'error',
      'This task has a run in progress. Delete it once the run has finished.'
    )
    assert.isNotNull(await Task.find(task.id))

    await db.from('runs').where('id', run.id).update({ status: 'failed' })
    const response = await signedIn(client.post(`/tasks/${task.id}/delete`), user)
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/tasks')
    assert.isNull(await Task.find(task.id))
    assert.lengthOf(await TaskInput.query().where('taskId', task.id), 0)
    for (const input of inputs) assert.isFalse(await mediaStorage.exists(input.storageKey))
    const ledger = await db.from('ledger_entries').where('reference', `used:run:${run.id}`)
    assert.lengthOf(ledger, 1)
    await assertLedgerInvariant(assert)
  })
})
