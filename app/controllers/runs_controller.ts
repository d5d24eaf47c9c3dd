import type { HttpContext } from '@adonisjs/core/http'
import { Exception } from '@adonisjs/core/exceptions'
import taskService from '#services/tasks/task_service'
import { TaskError } from '#services/tasks/errors'
import { sendStoredFile } from '#presenters/media_response'
import { resultFileName } from '#presenters/tasks'

export default class RunsController {
  /** Launch (first run) or regenerate (same inputs, costs again). */
  async store({ response, auth, params, session }: HttpContext) {
    const user = auth.getUserOrFail()
    const task = await taskService.findOwned(user.id, params.id)
    try {
      const run = await taskService.launch(user.id, task.id)
      session.flash(
        'success',
        `Run #${run.number} launched for ${run.cost.toLocaleString('en-US')} tokens. This page updates by itself.`
      )
    } catch (error) {
      if (!(error instanceof TaskError)) throw error
      /* Shown next to the Launch button, with a link (e.g. to buy tokens) when there is one. */
      session.flash('launchError', { message: error.message, link: error.link ?? null })
    }
    return response.redirect(`/tasks/${task.id}`)
  }

  /** The run's result, for its owner only. */
  async download(ctx: HttpContext) {
    const { auth, params } = ctx
    const user = auth.getUserOrFail()
    const task = await taskService.findOwned(user.id, params.id)
    const run = await taskService.findOwnedRun(user.id, task.id, params.runId)
    if (!run.hasOutput) throw new Exception('This run has no result.', { status: 404 })
    return sendStoredFile(ctx, {
      key: run.outputKey!,
      contentType: 'video/mp4',
      fileName: resultFileName(task.name, run.number),
      disposition: 'attachment',
    })
  }
}
