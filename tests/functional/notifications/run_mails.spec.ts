import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import { appUrl } from '#config/app'
import generationConfig from '#config/generation'
import Run from '#models/run'
import taskService from '#services/tasks/task_service'
import mediaStorage from '#integrations/storage/media_storage'
import { FAILURE_TIMEOUT, GenerationRunsJob } from '#jobs/generation_runs_job'
import { LocalFfmpegProvider } from '#integrations/generation/local_ffmpeg'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { deliverMails, mailsTo } from '#tests/helpers/mailbox'
import { signedIn } from '#tests/helpers/auth'
import { driveRun, seededTask } from '#tests/functional/tasks/helpers'

const finished = (run: Run) => run.status === 'succeeded' || run.status === 'failed'

/* A fresh job object is what a restarted worker process has: nothing in memory. */
function freshWorker() {
  return new GenerationRunsJob(new LocalFfmpegProvider(), {
    ...generationConfig.worker,
    pollIntervalMs: 0,
  })
}

async function outboxRows(runId: string) {
  return db.from('mail_outbox').where('dedupe_key', `run-finished:${runId}`)
}

test.group('Run notifications', (group) => {
  freshState(group)

  test('a succeeded run mails its owner once, naming the task, with a link to it; the poster is stored', async ({
    assert,
  }) => {
    const user = await createUser({ balance: 1000 })
    const task = await seededTask(user, 'lipsync', 'Beach <day> & "night"')
    const run = await taskService.launch(user.id, task.id)
    const done = await driveRun(freshWorker(), run.id, finished, 5000)
    assert.equal(done.status, 'succeeded', done.errorMessage ?? '')

    /* Queued with the final state, before any mail job ran. */
    assert.lengthOf(await outboxRows(run.id), 1)
    assert.isNotNull(done.posterKey)
    assert.isTrue(await mediaStorage.exists(done.posterKey!))

    const mails = await mailsTo(user.email)
    assert.lengthOf(mails, 1)
    assert.equal(mails[0].subject, 'Your clip “Beach <day> & "night"” is ready')
    assert.include(mails[0].text, `${appUrl}/tasks/${task.id}`)
    assert.include(mails[0].html, `href="${appUrl}/tasks/${task.id}"`)
    assert.include(mails[0].html, 'Beach &lt;day&gt; &amp; &quot;night&quot;')
    assert.notInclude(mails[0].html, '<day>')

    /* A restarted worker (new job objects) and a stale copy of the run change nothing. */
    const restarted = freshWorker()
    await restarted.tick(new AbortController().signal)
    const stale = await Run.findOrFail(run.id)
    stale.status = 'running'
    stale.$hydrateOriginals()
    assert.isFalse(await restarted.failAndRefund(stale, FAILURE_TIMEOUT))
    await deliverMails()
    assert.lengthOf(await mailsTo(user.email), 1)
    assert.lengthOf(await outboxRows(run.id), 1)
  })

  test('a failed run mails why in plain words and the refunded amount, once across restarts', async ({
    assert,
  }) => {
    const user = await createUser({ balance: 1000 })
    const task = await seededTask(user, 'lipsync', 'Late clip')
    const run = await taskService.launch(user.id, task.id)
    /* Past its deadline: the next tick of any worker fails and refunds it. */
    await Run.query()
      .where('id', run.id)
      .update({ deadlineAt: DateTime.now().minus({ minutes: 1 }).toSQL({ includeOffset: false }) })
    await freshWorker().tick(new AbortController().signal)
    const failed = await Run.findOrFail(run.id)
    assert.equal(failed.status, 'failed')

    /* Two more "restarts" before the mail job runs, then the mail job twice. */
    await freshWorker().tick(new AbortController().signal)
    assert.isFalse(await freshWorker().failAndRefund(run, FAILURE_TIMEOUT))
    await deliverMails()
    await deliverMails()

    const mails = await mailsTo(user.email)
    assert.lengthOf(mails, 1)
    assert.equal(mails[0].subject, `Run #1 of “Late clip” failed`)
    assert.include(mails[0].text, `Why: ${FAILURE_TIMEOUT}`)
    assert.include(mails[0].text, `refunded the ${run.cost} tokens`)
    assert.include(mails[0].text, `${appUrl}/tasks/${task.id}`)
    await user.refresh()
    assert.equal(user.balance, 1000)
  })

  test('a mail claimed by a worker that died before sending goes out once after the restart', async ({
    assert,
  }) => {
    const user = await createUser({ balance: 1000 })
    const task = await seededTask(user)
    const run = await taskService.launch(user.id, task.id)
    await freshWorker().failAndRefund(run, FAILURE_TIMEOUT)
    /* The dead worker had claimed the row (attempt 1, retry later) and never sent it. */
    await db
      .from('mail_outbox')
      .where('dedupe_key', `run-finished:${run.id}`)
      .update({ attempts: 1, next_attempt_at: '2000-01-01 00:00:00' })
    await deliverMails()
    await deliverMails()
    assert.lengthOf(await mailsTo(user.email), 1)
  })

  test('with run notifications switched off, no mail is queued or sent', async ({ assert }) => {
    const user = await createUser({ balance: 1000 })
    await db.from('users').where('id', user.id).update({ notify_runs: false })
    const task = await seededTask(user)
    const run = await taskService.launch(user.id, task.id)
    await freshWorker().failAndRefund(run, FAILURE_TIMEOUT)
    assert.lengthOf(await outboxRows(run.id), 0)
    assert.lengthOf(await mailsTo(user.email), 0)
  })

  test('switched off after the mail was queued: it is skipped at delivery', async ({ assert }) => {
    const user = await createUser({ balance: 1000 })
    const task = await seededTask(user)
    const run = await taskService.launch(user.id, task.id)
    await freshWorker().failAndRefund(run, FAILURE_TIMEOUT)
    await db.from('users').where('id', user.id).update({ notify_runs: false })
    const result = await deliverMails()
    assert.equal(result.skipped, 1)
    assert.lengthOf(await mailsTo(user.email), 0)
  })
})

test.group('The result on the page', (group) => {
  freshState(group)

  test('the latest result plays inline (Range, poster), the list shows its poster; others get 404', async ({
    client,
    assert,
  }) => {
    const user = await createUser({ balance: 1000 })
    const stranger = await createUser()
    const task = await seededTask(user, 'lipsync', 'Player')
    const first = await taskService.launch(user.id, task.id)
    await driveRun(freshWorker(), first.id, finished, 5000)
    const second = await taskService.launch(user.id, task.id)
    const done = await driveRun(freshWorker(), second.id, finished, 5000)
    assert.equal(done.status, 'succeeded')
    const base = `/tasks/${task.id}/runs/${second.id}`

    const page = await signedIn(client.get(`/tasks/${task.id}`), user)
    page.assertStatus(200)
    assert.match(
      page.text(),
      new RegExp(
        `<video controls playsinline preload="none" data-testid="result-video"\\s+src="${base}/video"\\s+poster="${base}/poster"`
      )
    )
    /* The earlier run: a preview whose poster is set only when it is opened. */
    assert.include(page.text(), `src="/tasks/${task.id}/runs/${first.id}/video" data-poster=`)

    const range = await signedIn(client.get(`${base}/video`), user).header('range', 'bytes=0-99')
    range.assertStatus(206)
    range.assertHeader('content-length', '100')
    range.assertHeader('content-type', 'video/mp4')
    assert.match(range.header('content-disposition') ?? '', /^inline;/)

    const poster = await signedIn(client.get(`${base}/poster`), user)
    poster.assertStatus(200)
    poster.assertHeader('content-type', 'image/jpeg')

    const list = await signedIn(client.get('/tasks'), user)
    assert.include(list.text(), `src="${base}/poster" alt="" width="64" height="36" loading="lazy"`)

    for (const path of [`${base}/video`, `${base}/poster`, `/tasks/${task.id}`]) {
      const response = await signedIn(client.get(path), stranger)
      response.assertStatus(404)
    }
    const out = await client.get(`${base}/video`).redirects(0)
    out.assertStatus(302)
  })
})
