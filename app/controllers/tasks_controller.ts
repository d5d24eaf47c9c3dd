import type { HttpContext } from '@adonisjs/core/http'
import Task from '#models/task'
import { inputLabels } from '#config/models'
import { offeredModels } from '#services/tasks/provider_routing'
import generationConfig from '#config/generation'
import taskService from '#services/tasks/task_service'
import { formatBytes, formatSeconds } from '#helpers/formatting'
import { createTaskValidator, renameTaskValidator } from '#validators/tasks'
import { pageNumber } from '#validators/pagination'
import { inputView, polledRunView, runJson, statusLabel, taskStatus } from '#presenters/tasks'
import { ACTIVE_RUN_STATUSES } from '#models/run'
import TaskPolicy from '#policies/task_policy'

export default class TasksController {
  /** The dashboard: the user's tasks, newest first. */
  async index({ view, auth, request }: HttpContext) {
    const user = auth.getUserOrFail()
    const { tasks, latestRun, posterOf } = await taskService.list(
      user,
      await pageNumber(request.qs())
    )
    tasks.baseUrl('/tasks')
    const rows = tasks.all().map((task) => {
      const latest = latestRun(task)
      const status = taskStatus(latest)
      return {
        id: task.id,
        name: task.name,
        model: Task.labelOf(task.model),
        status,
        statusLabel: statusLabel(status),
        lastRunAt: latest?.created_at ?? null,
        cost: latest?.cost ?? null,
        createdAt: task.created_at,
        posterUrl: posterOf(task),
      }
    })
    return view.render('pages/tasks/index', {
      title: 'Tasks',
      active: 'tasks',
      rows,
      pagination: tasks.getMeta(),
    })
  }

  async create({ view }: HttpContext) {
    return view.render('pages/tasks/create', {
      title: 'New task',
      active: 'tasks',
      models: offeredModels().map((model) => ({
        ...model,
        inputsText: model.inputs.map((kind) => inputLabels[kind].toLowerCase()).join(' + '),
      })),
    })
  }

  async store({ request, response, auth, session }: HttpContext) {
    const user = auth.getUserOrFail()
    const data = await request.validateUsing(createTaskValidator)
    const task = await taskService.create(user.id, data)
    session.flash('success', 'Task created. Upload its files, then launch it.')
    return response.redirect(`/tasks/${task.id}`)
  }

  async show({ view, auth, params }: HttpContext) {
    const user = auth.getUserOrFail()
    const task = await taskService.findOwned(user, params.id)
    const [inputs, runs] = await Promise.all([taskService.inputsOf(task), taskService.runsOf(task)])
    const quote = taskService.quote(task, inputs)
    const latest = runs[0] ?? null
    /* The newest run with a result plays on the page. */
    const latestResult = runs.find((run) => run.hasOutput) ?? null
    const status = taskStatus(latest)
    const active = latest?.isActive ?? false
    const limits = generationConfig.uploads
    const slots = (quote.model?.inputs ?? []).map((kind) => {
      const input = inputs.find((candidate) => candidate.kind === kind)
      return {
        kind,
        label: inputLabels[kind],
        input: input ? inputView(input) : null,
        maxBytes: limits[kind].maxBytes,
        limitText: `${formatBytes(limits[kind].maxBytes)}, ${formatSeconds(limits.maxDurationSeconds)}`,
        accept: kind === 'video' ? 'video/*,.mkv' : 'audio/*,.m4a',
      }
    })
    return view.render('pages/tasks/show', {
      title: task.name,
      active: 'tasks',
      task,
      model: quote.model,
      slots,
      quote,
      status,
      statusLabel: statusLabel(status),
      activeRun: active,
      balance: user.balance,
      runs: runs.map((run) => ({
        ...runJson(run, task.id),
        createdAt: run.createdAt,
        finishedAtDate: run.finishedAt,
        regeneration: run.regeneration,
      })),
      latestResult: latestResult ? runJson(latestResult, task.id) : null,
    })
  }

  /** Small JSON the task page polls while a run is active (GET: never writes). */
  async status({ auth, params, response }: HttpContext) {
    const user = auth.getUserOrFail()
    const taskId = String(params.id)
    const runs = (await taskService.polledRuns(user, taskId)).map(polledRunView)
    const latest = runs[0] ?? null
    const status = taskStatus(latest)
    /* `user` was read from the database by this request's auth check: its balance is current. */
    response.header('Cache-Control', 'no-store')
    return {
      status,
      statusLabel: statusLabel(status),
      active: latest ? ACTIVE_RUN_STATUSES.includes(latest.status) : false,
      balance: user.balance,
      runs: runs.map((run) => runJson(run, taskId)),
    }
  }

  async update({ request, response, auth, params, session, bouncer }: HttpContext) {
    const task = await taskService.findOwned(auth.getUserOrFail(), params.id)
    await bouncer.with(TaskPolicy).authorize('rename', task)
    const { name } = await request.validateUsing(renameTaskValidator)
    await taskService.rename(task, name)
    session.flash('success', 'Task renamed.')
    return response.redirect(`/tasks/${task.id}`)
  }

  /** Refused while a run is active (TaskPolicy): the message shows on the task page. */
  async destroy({ response, auth, params, session, bouncer }: HttpContext) {
    const task = await taskService.findOwned(auth.getUserOrFail(), params.id)
    await bouncer.with(TaskPolicy).authorize('delete', task)
    await taskService.delete(task)
    session.flash('success', `Task "${task.name}" deleted.`)
    return response.redirect('/tasks')
  }
}
