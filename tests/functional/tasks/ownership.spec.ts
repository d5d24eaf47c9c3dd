import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'
import { media } from '#tests/helpers/media'
import { putTo, seededTask } from '#tests/functional/tasks/helpers'
import Task from '#models/task'
import Run from '#models/run'
import TaskInput from '#models/task_input'
import taskService from '#services/tasks/task_service'

test.group('Ownership and task policy', (group) => {
  freshState(group)

  test('another user gets 404 for every task route and changes nothing', async ({
    client,
    assert,
  }) => {
    const owner = await createUser({ balance: 1000 })
    const stranger = await createUser({ balance: 1000 })
    const task = await seededTask(owner, 'lipsync', 'Private clip')
    const run = await taskService.launch(owner, task.id)
    await db.from('runs').where('id', run.id).update({ status: 'succeeded' })
    const before = await db.from('tasks').where('id', task.id).first()

    const reads = [
      `/tasks/${task.id}`,
      `/tasks/${task.id}/status`,
      `/tasks/${task.id}/inputs/video`,
      `/tasks/${task.id}/runs/${run.id}/download`,
    ]
    for (const url of reads) {
      const response = await signedIn(client.get(url), stranger)
      assert.equal(response.status(), 404, url)
      assert.notInclude(response.text(), 'Private clip', url)
    }
    const writes: [string, Record<string, string>][] = [
      [`/tasks/${task.id}/rename`, { name: 'Mine now' }],
      [`/tasks/${task.id}/delete`, {}],
      [`/tasks/${task.id}/runs`, {}],
    ]
    for (const [url, form] of writes) {
      const response = await signedIn(client.post(url), stranger)
        .form(form)
        .withCsrfToken()
        .redirects(0)
      assert.equal(response.status(), 404, url)
    }
    const upload = await putTo(client, stranger, task.id, 'video', await media('video.mp4'))
    upload.assertStatus(404)

    assert.deepEqual(await db.from('tasks').where('id', task.id).first(), before)
    assert.lengthOf(await Run.query().where('taskId', task.id), 1)
    assert.lengthOf(await Run.query().where('userId', stranger.id), 0)
    await stranger.refresh()
    assert.equal(stranger.balance, 1000)
  })

  test('a second user’s lists show only their own tasks and ledger rows', async ({
    client,
    assert,
  }) => {
    const owner = await createUser({ balance: 1234 })
    const stranger = await createUser()
    await seededTask(owner, 'lipsync', 'Owner only task')
    const tasks = await signedIn(client.get('/tasks'), stranger)
    tasks.assertStatus(200)
    assert.notInclude(tasks.text(), 'Owner only task')
    const usage = await signedIn(client.get('/usage'), stranger)
    usage.assertStatus(200)
    assert.notInclude(usage.text(), '1,234')
  })

  test('while a run is active: delete and input replacement refused with the policy’s message, rename allowed', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ balance: 1000 })
    const task = await seededTask(user, 'lipsync', 'Busy clip')
    await taskService.launch(user, task.id)

    const deleted = await signedIn(client.post(`/tasks/${task.id}/delete`), user)
      .withCsrfToken()
      .redirects(0)
    deleted.assertStatus(302)
    deleted.assertHeader('location', `/tasks/${task.id}`)
    deleted.assertFlashMessage(
      'error',
      'This task has a run in progress. Delete it once the run has finished.'
    )
    assert.isNotNull(await Task.find(task.id))

    const replaced = await putTo(client, user, task.id, 'video', await media('video.mp4'))
    replaced.assertStatus(409)
    assert.deepEqual(replaced.body(), {
      error: {
        code: 'run_active',
        message: 'A run is in progress. You can replace files once it has finished.',
      },
    })
    const form = await signedIn(client.post(`/tasks/${task.id}/inputs/video`), user)
      .file('file', await media('video.mp4'))
      .withCsrfToken()
      .redirects(0)
    form.assertStatus(302)
    form.assertHeader('location', `/tasks/${task.id}`)
    form.assertFlashMessage(
      'error',
      'A run is in progress. You can replace files once it has finished.'
    )
    const video = await TaskInput.query().where('taskId', task.id).where('kind', 'video').first()
    assert.equal(video?.originalName, 'video.mp4')

    const renamed = await signedIn(client.post(`/tasks/${task.id}/rename`), user)
      .form({ name: 'Still busy' })
      .withCsrfToken()
      .redirects(0)
    renamed.assertFlashMessage('success', 'Task renamed.')
    assert.equal((await Task.findOrFail(task.id)).name, 'Still busy')
  })
})

test.group('Task validators', (group) => {
  freshState(group)

  test('rename and create answer with the validators’ messages and change nothing', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const task = await seededTask(user, 'lipsync', 'Named')
    const cases: [Record<string, string>, string][] = [
      [{ name: '' }, 'Please give the task a name.'],
      [{ name: '   ' }, 'Please give the task a name.'],
      [{ name: 'x'.repeat(121) }, 'Must be at most 120 characters.'],
    ]
    for (const [form, message] of cases) {
      const response = await signedIn(client.post(`/tasks/${task.id}/rename`), user)
        .form(form)
        .withCsrfToken()
        .redirects(0)
      response.assertStatus(302)
      response.assertFlashMessage('inputErrorsBag', { name: [message] })
    }
    assert.equal((await Task.findOrFail(task.id)).name, 'Named')

    const created = await signedIn(client.post('/tasks'), user)
      .form({ name: 'New', model: 'not-a-model' })
      .withCsrfToken()
      .redirects(0)
    created.assertFlashMessage('inputErrorsBag', {
      model: ['Please choose one of the listed models.'],
    })
    assert.lengthOf(await Task.query().where('userId', user.id), 1)
  })

  test('odd page numbers show page 1; a real one shows that page', async ({ client, assert }) => {
    const user = await createUser()
    for (let index = 0; index < 21; index += 1) {
      await taskService.create(user.id, { name: `Task #${index}#`, model: 'lipsync' })
    }
    const namesOn = async (qs: string) => {
      const response = await signedIn(client.get(`/tasks${qs}`), user)
      response.assertStatus(200)
      return [...response.text().matchAll(/Task #(\d+)#/g)].map((match) => match[1]).sort()
    }
    const first = await namesOn('')
    assert.lengthOf(first, 20)
    for (const page of ['abc', '-1', '0', '1e3', '1.5', '10000000', '', '1&page=2']) {
      assert.deepEqual(await namesOn(`?page=${page}`), first, page)
    }
    const second = await namesOn('?page=2')
    assert.lengthOf(second, 1)
    assert.notInclude(first, second[0])
  })
})
