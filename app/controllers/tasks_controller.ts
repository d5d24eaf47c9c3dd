import type { HttpContext } from '@adonisjs/core/http'
import { SimpleMessagesProvider } from '@vinejs/vine'
import { inputLabels } from '#config/models'
import { offeredModels } from '#services/tasks/provider_routing'
import generationConfig from '#config/generation'
import taskService from '#services/tasks/task_service'
import { TaskError } from '#services/tasks/errors'
import { formatBytes, formatSeconds } from '#helpers/formatting'
import { createTaskValidator, renameTaskValidator } from '#validators/tasks'
import { pageNumber } from '#presenters/pagination'
import { inputView, runJson, statusLabel, taskStatus } from '#presenters/tasks'

const messages = new SimpleMessagesProvider({
  'name.required': 'Please give the task a name.',
  'name.maxLength': 'Must be at most {{ max }} characters.',
  'model.required': 'Please choose a model.',
  'model.enum': 'Please choose one of the listed models.',
})

export default class TasksController {
  /** The dashboard: the user's tasks, newest first. */
  async index({ view, auth, request }: HttpContext) {
    const user = auth.getUserOrFail()
    const { tasks, latestRun } = await taskService.list(user.id, pageNumber(request.qs().page))
    tasks.baseUrl('/tasks')
    const rows = tasks.all().map((task) => {
      const latest = latestRun(task)
      const status = taskStatus(latest)
      return {
        id: task.id,
        name: task.name,
        model: task.modelLabel,
        status,
        statusLabel: statusLabel(status),
        lastRunAt: latest?.createdAt ?? null,
        cost: latest?.cost ?? null,
        createdAt: task.createdAt,
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
    const data = await request.validateUsing(createTaskValidator, { messagesProvider: messages })
    const task = await taskService.create(user.id, data)
    session.flash('success', 'Task created. Upload its files, then launch it.')
    return response.redirect(`/tasks/${task.id}`)
  }

  async show({ view, auth, params }: HttpContext) {
    const user = auth.getUserOrFail()
    const task = await taskService.findOwned(user.id, params.id)
    const [inputs, runs] = await Promise.all([taskService.inputsOf(task), taskService.runsOf(task)])
    const quote = taskService.quote(task, inputs)
    const latest = runs[0] ?? null
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
        regeneration: run.regeneration,
      })),
    })
  }

  /** Small JSON the task page polls while a run is active (GET: never writes). */
  async status({ auth, params, response }: HttpContext) {
    const user = auth.getUserOrFail()
    const task = await taskService.findOwned(user.id, params.id)
    const runs = await taskService.runsOf(task)
    const latest = runs[0] ?? null
    const status = taskStatus(latest)
    await user.refresh()
    response.header('Cache-Control', 'no-store')
    return {
      status,
      statusLabel: statusLabel(status),
      active: latest?.isActive ?? false,
      balance: user.balance,
      runs: runs.map((run) => runJson(run, task.id)),
    }
  }

  async update({ request, response, auth, params, session }: HttpContext) {
    const user = auth.getUserOrFail()
    await taskService.findOwned(user.id, params.id)
    const { name } = await request.validateUsing(renameTaskValidator, {
      messagesProvider: messages,
    })
    await taskService.rename(user.id, params.id, name)
    session.flash('success', 'Task renamed.')
    return response.redirect(`/tasks/${params.id}`)
  }

  async destroy({ response, auth, params, session }: HttpContext) {
    const user = auth.getUserOrFail()
    try {
      const task = await taskService.delete(user.id, params.id)
      session.flash('success', `Task "${task.name}" deleted.`)
      return response.redirect('/tasks')
    } catch (error) {
      if (!(error instanceof TaskError)) throw error
      session.flash('error', error.message)
      return response.redirect(`/tasks/${params.id}`)
    }
  }
}
