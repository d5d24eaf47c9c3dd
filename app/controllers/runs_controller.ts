import type { HttpContext } from '@adonisjs/core/http'
import { Exception } from '@adonisjs/core/exceptions'
import taskService from '#services/tasks/task_service'
import TaskPolicy from '#policies/task_policy'
import { sendStoredFile } from '#presenters/media_response'
import { resultFileName } from '#presenters/tasks'

export default class RunsController {
  /**
   * Launch (first run) or regenerate (same inputs, costs again). A refusal
   * (run active, inputs missing, not enough tokens) is a LaunchRefusedException,
   * shown next to the Launch button.
   */
  async store({ response, auth, params, session, bouncer }: HttpContext) {
    const user = auth.getUserOrFail()
    const task = await taskService.findOwned(user, params.id)
    await bouncer.with(TaskPolicy).authorize('launch', task)
    const run = await taskService.launch(user, task.id)
    session.flash(
      'success',
      `Run #${run.number} launched for ${run.cost.toLocaleString('en-US')} tokens. This page updates by itself.`
    )
    return response.redirect(`/tasks/${task.id}`)
  }

  /** The run's result as a file to save, for its owner only. */
  async download(ctx: HttpContext) {
    return sendResult(ctx, 'attachment')
  }

  /** The result played on the task page: inline, with Range (seeking), owner only. */
  async video(ctx: HttpContext) {
    return sendResult(ctx, 'inline')
  }

  /** The result's still frame (player poster, task list), owner only. */
  async poster(ctx: HttpContext) {
    const { run } = await ownedResult(ctx)
    if (!run.posterKey) throw new Exception('This run has no poster.', { status: 404 })
    return sendStoredFile(ctx, {
      key: run.posterKey,
      contentType: 'image/jpeg',
      fileName: `poster-${run.number}.jpg`,
      disposition: 'inline',
    })
  }
}

async function sendResult(ctx: HttpContext, disposition: 'attachment' | 'inline') {
  const { task, run } = await ownedResult(ctx)
  return sendStoredFile(ctx, {
    key: run.outputKey!,
    contentType: 'video/mp4',
    fileName: resultFileName(task.name, run.number),
    disposition,
  })
}

/* The signed-in user's task and its succeeded run, else 404. */
async function ownedResult({ auth, params }: HttpContext) {
  const user = auth.getUserOrFail()
  const task = await taskService.findOwned(user, params.id)
  const run = await taskService.findOwnedRun(user, task, params.runId)
  if (!run.hasOutput) throw new Exception('This run has no result.', { status: 404 })
  return { task, run }
}
