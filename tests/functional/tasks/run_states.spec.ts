import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import Run, { RUN_TRANSITIONS, statusesBefore } from '#models/run'
import taskService from '#services/tasks/task_service'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { seededTask } from '#tests/functional/tasks/helpers'

async function launchedRun() {
  const user = await createUser({ balance: 10_000 })
  const task = await seededTask(user)
  return taskService.launch(user.id, task.id)
}

test.group('Run state transitions', (group) => {
  freshState(group)

  test('finished runs are final; active ones follow the provider', ({ assert }) => {
    assert.deepEqual(RUN_TRANSITIONS.succeeded, [])
    assert.deepEqual(RUN_TRANSITIONS.failed, [])
    assert.sameMembers(statusesBefore('failed'), ['queued', 'running'])
    assert.sameMembers(statusesBefore('running'), ['queued', 'running'])
  })

  test('a move is written to the row and the instance; a finished run never moves again', async ({
    assert,
  }) => {
    const run = await launchedRun()
    assert.isTrue(await run.moveTo('running', { providerStatus: 'IN_PROGRESS' }))
    assert.equal(run.status, 'running')
    assert.isFalse(run.$isDirty)

    assert.isTrue(await run.moveTo('failed', { errorMessage: 'no', finishedAt: DateTime.now() }))
    const stored = await Run.findOrFail(run.id)
    assert.equal(stored.status, 'failed')
    assert.equal(stored.providerStatus, 'IN_PROGRESS')
    assert.equal(stored.errorMessage, 'no')

    /* A stale copy (read before the failure) cannot succeed the run. */
    const stale = await Run.findOrFail(run.id)
    stale.status = 'running'
    stale.$hydrateOriginals()
    assert.isFalse(await stale.moveTo('succeeded', { outputKey: 'x' }))
    assert.isFalse(await stale.updateWhileActive({ checkFailures: 3 }))
    assert.equal(stale.status, 'running', 'a refused move leaves the instance as it was')
    const after = await Run.findOrFail(run.id)
    assert.equal(after.status, 'failed')
    assert.isNull(after.outputKey)
    assert.equal(after.checkFailures, 0)
  })

  test('the first stored job id wins', async ({ assert }) => {
    const run = await launchedRun()
    const copy = await Run.findOrFail(run.id)
    assert.isTrue(await run.updateWhileActive({ providerJobId: 'a' }, { withoutJobId: true }))
    assert.isFalse(await copy.updateWhileActive({ providerJobId: 'b' }, { withoutJobId: true }))
    assert.equal((await Run.findOrFail(run.id)).providerJobId, 'a')
  })
})
