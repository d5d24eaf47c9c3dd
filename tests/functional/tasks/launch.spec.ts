import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'
import { assertLedgerInvariant } from '#tests/helpers/invariants'
import { seededTask } from '#tests/functional/tasks/helpers'
import Run from '#models/run'
import TaskInput from '#models/task_input'
import taskService from '#services/tasks/task_service'

async function ledgerOf(userId: string) {
  return db
    .from('ledger_entries')
    .where('user_id', userId)
    .whereNot('action', 'manual')
    .orderBy('id')
}

test.group('Launch and regenerate', (group) => {
  freshState(group)

  test('launch debits the cost and queues a run; the page and the dashboard show it', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ balance: 1000 })
    const task = await seededTask(user, 'lipsync', 'Teaser')
    const page = await signedIn(client.get(`/tasks/${task.id}`), user)
    page.assertTextIncludes('A run costs <strong data-testid="run-cost">100</strong> tokens')
    page.assertTextIncludes('data-confirm="Launch “Teaser” for 100 tokens?"')

    const response = await signedIn(client.post(`/tasks/${task.id}/runs`), user)
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', `/tasks/${task.id}`)
    response.assertFlashMessage(
      'success',
      'Run #1 launched for 100 tokens. This page updates by itself.'
    )

    const [run] = await Run.query().where('taskId', task.id)
    assert.include(run.serialize(), { status: 'queued', number: 1, cost: 100, regeneration: false })
    const ledger = await ledgerOf(user.id)
    assert.deepEqual(
      ledger.map((row) => [row.action, row.status, row.diff, row.reference, row.description]),
      [['used', 'applied', -100, `used:run:${run.id}`, 'Task "Teaser" run #1']]
    )
    await user.refresh()
    assert.equal(user.balance, 900)

    const status = await signedIn(client.get(`/tasks/${task.id}/status`), user)
    status.assertStatus(200)
    assert.include(status.body(), { status: 'queued', active: true, balance: 900 })
    const dashboard = await signedIn(client.get('/tasks'), user)
    dashboard.assertTextIncludes('Queued')
    await assertLedgerInvariant(assert)
  })

  test('not enough tokens: a clear message with a link to /tokens, nothing debited, no run', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ balance: 99 })
    const task = await seededTask(user)
    const page = await signedIn(client.get(`/tasks/${task.id}`), user)
    page.assertTextIncludes('You need 1 more tokens.')

    const response = await signedIn(client.post(`/tasks/${task.id}/runs`), user)
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    response.assertFlashMessage('launchError', {
      message: 'This run costs 100 tokens but your balance is 99. Buy tokens to launch it.',
      link: { href: '/tokens', label: 'Buy tokens' },
    })
    assert.lengthOf(await Run.query().where('taskId', task.id), 0)
    const ledger = await ledgerOf(user.id)
    assert.deepEqual(
      ledger.map((row) => [row.action, row.status, row.diff]),
      [['used', 'rejected', -100]]
    )
    await user.refresh()
    assert.equal(user.balance, 99)
    await assertLedgerInvariant(assert)
  })

  test('launch with a missing input is refused', async ({ client, assert }) => {
    const user = await createUser({ balance: 1000 })
    const task = await seededTask(user)
    await TaskInput.query().where('taskId', task.id).where('kind', 'audio').delete()
    const response = await signedIn(client.post(`/tasks/${task.id}/runs`), user)
      .withCsrfToken()
      .redirects(0)
    response.assertFlashMessage('launchError', { message: 'Upload the audio first.', link: null })
    assert.lengthOf(await ledgerOf(user.id), 0)
    assert.lengthOf(await Run.query().where('taskId', task.id), 0)
  })

  test('a double-clicked Launch makes one run and one debit', async ({ client, assert }) => {
    const user = await createUser({ balance: 1000 })
    const task = await seededTask(user)
    const responses = await Promise.all(
      [1, 2, 3].map(() =>
        signedIn(client.post(`/tasks/${task.id}/runs`), user)
          .withCsrfToken()
          .redirects(0)
      )
    )
    const messages = responses.map((response) => response.flashMessages())
    assert.lengthOf(
      messages.filter((flash) => flash.success),
      1
    )
    assert.lengthOf(
      messages.filter((flash) =>
        String((flash.launchError as any)?.message).includes('already in progress')
      ),
      2
    )
    assert.lengthOf(await Run.query().where('taskId', task.id), 1)
    assert.lengthOf(
      (await ledgerOf(user.id)).filter((row) => row.status === 'applied'),
      1
    )
    await assertLedgerInvariant(assert)
  })

  test('regenerate: refused while a run is active, then a new run with the same inputs that costs again', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ balance: 1000 })
    const task = await seededTask(user, 'lipsync', 'Teaser')
    const first = await taskService.launch(user.id, task.id)

    const busy = await signedIn(client.post(`/tasks/${task.id}/runs`), user)
      .withCsrfToken()
      .redirects(0)
    busy.assertFlashMessage('launchError', {
      message: 'A run of this task is already in progress. Wait for it to finish.',
      link: null,
    })

    await db.from('runs').where('id', first.id).update({ status: 'succeeded' })
    const page = await signedIn(client.get(`/tasks/${task.id}`), user)
    page.assertTextIncludes('Regenerate for 100 tokens')
    page.assertTextIncludes('data-confirm="Regenerate “Teaser” for 100 tokens?"')

    const again = await signedIn(client.post(`/tasks/${task.id}/runs`), user)
      .withCsrfToken()
      .redirects(0)
    again.assertFlashMessage(
      'success',
      'Run #2 launched for 100 tokens. This page updates by itself.'
    )
    const runs = await Run.query().where('taskId', task.id).orderBy('number')
    assert.deepEqual(
      runs.map((run) => [run.number, run.regeneration, run.cost]),
      [
        [1, false, 100],
        [2, true, 100],
      ]
    )
    assert.deepEqual(runs[1].inputs, runs[0].inputs)
    assert.deepEqual(
      (await ledgerOf(user.id)).map((row) => [row.diff, row.description]),
      [
        [-100, 'Task "Teaser" run #1'],
        [-100, 'Task "Teaser" run #2'],
      ]
    )
    const listed = await signedIn(client.get(`/tasks/${task.id}`), user)
    listed.assertTextIncludes('#2\n')
    listed.assertTextIncludes('<small class="muted run-note">(regenerated)</small>')
    listed.assertTextIncludes(`data-run-id="${runs[0].id}"`)
    await assertLedgerInvariant(assert)
  })
})
