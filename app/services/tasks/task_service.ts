import db from '@adonisjs/lucid/services/db'
import { DateTime } from 'luxon'
import generationConfig from '#config/generation'
import { findModel, runCost, inputLabels, type ModelType } from '#config/models'
import Task from '#models/task'
import TaskInput from '#models/task_input'
import Run, { ACTIVE_RUN_STATUSES, type RunInput } from '#models/run'
import { uuidv7 } from '#helpers/ids'
import { isUniqueViolation } from '#helpers/db_errors'
import walletService from '#services/wallet_service'
import mediaStorage from '#integrations/storage/media_storage'
import { chooseProvider, isOffered, type RunRoute } from '#services/tasks/provider_routing'
import { NotEnoughTokens, TaskError } from '#services/tasks/errors'

export const TASKS_PER_PAGE = 20

export const MODEL_UNAVAILABLE =
  'This model cannot be run at the moment: no generation service for it is set up. Create a task with another model.'

export type Quote = {
  model: ModelType | null
  missing: string[]
  seconds: number | null
  cost: number | null
}

/**
 * Tasks of one customer. Every lookup is scoped to the owner: another
 * user's task (or its files, runs and results) is simply not found (404).
 */
export class TaskService {
  /** The user's task, or a 404 (E_ROW_NOT_FOUND) when it is not theirs or does not exist. */
  async findOwned(userId: string, taskId: string) {
    return Task.query().where('id', String(taskId)).where('userId', userId).firstOrFail()
  }

  async findOwnedRun(userId: string, taskId: string, runId: string) {
    return Run.query()
      .where('id', String(runId))
      .where('taskId', String(taskId))
      .where('userId', userId)
      .firstOrFail()
  }

  /** Dashboard page: newest first, each with its latest run. */
  async list(userId: string, page: number) {
    const tasks = await Task.query()
      .where('userId', userId)
      .orderBy('createdAt', 'desc')
      .orderBy('id', 'desc')
      .paginate(page, TASKS_PER_PAGE)
    const ids = tasks.all().map((task) => task.id)
    const latest = ids.length
      ? await Run.query()
          .whereIn('taskId', ids)
          .whereRaw('number = (SELECT MAX(r2.number) FROM runs r2 WHERE r2.task_id = runs.task_id)')
      : []
    const byTask = new Map(latest.map((run) => [run.taskId, run]))
    return { tasks, latestRun: (task: Task) => byTask.get(task.id) ?? null }
  }

  async create(userId: string, data: { name: string; model: string }) {
    if (!isOffered(data.model)) throw new TaskError('Please choose one of the listed models.')
    return Task.create({ userId, name: data.name, model: data.model, runsCount: 0 })
  }

  async rename(userId: string, taskId: string, name: string) {
    const task = await this.findOwned(userId, taskId)
    task.name = name
    await task.save()
    return task
  }

  /** Deletes a task and its files. The ledger keeps its rows; an active run blocks it. */
  async delete(userId: string, taskId: string) {
    const task = await db.transaction(async (trx) => {
      const owned = await Task.query({ client: trx })
        .where('id', taskId)
        .where('userId', userId)
        .firstOrFail()
      const active = await Run.query({ client: trx })
        .where('taskId', owned.id)
        .whereIn('status', ACTIVE_RUN_STATUSES)
        .first()
      if (active) {
        throw new TaskError(
          'This task has a run in progress. Delete it once the run has finished.',
          409,
          'run_active'
        )
      }
      await owned.useTransaction(trx).delete()
      return owned
    })
    await mediaStorage.deletePrefix(`tasks/${task.id}/`)
    return task
  }

  async inputsOf(task: Task) {
    return TaskInput.query().where('taskId', task.id).orderBy('kind', 'desc')
  }

  async runsOf(task: Task) {
    return Run.query().where('taskId', task.id).orderBy('number', 'desc')
  }

  /** What a run would cost now, and which inputs are still missing. */
  quote(task: Task, inputs: TaskInput[]): Quote {
    const model = findModel(task.model)
    if (!model) return { model: null, missing: [], seconds: null, cost: null }
    const byKind = new Map(inputs.map((input) => [input.kind, input]))
    const missing = model.inputs
      .filter((kind) => !byKind.has(kind))
      .map((kind) => inputLabels[kind])
    if (missing.length) return { model, missing, seconds: null, cost: null }
    /* The clip is as long as the shortest required input. */
    const seconds = Math.min(...model.inputs.map((kind) => byKind.get(kind)!.duration))
    return { model, missing, seconds, cost: runCost(model, seconds) }
  }

  /**
   * Launches a run (the first one, or a regeneration with the same inputs):
   * in one transaction the cost is debited and the run is queued. Not enough
   * tokens: the refused debit is recorded, no run is created, NotEnoughTokens
   * is thrown. A second launch while a run is active is refused.
   */
  async launch(userId: string, taskId: string) {
    const runId = uuidv7()
    /* Picked before the transaction (it reads the providers' health). */
    const task = await this.findOwned(userId, taskId)
    const model = findModel(task.model)
    const route = model ? await chooseProvider(model) : null
    if (model && !route) throw new TaskError(MODEL_UNAVAILABLE, 422, 'model_unavailable')
    const outcome = await this.launchIn(userId, taskId, runId, route).catch((error) => {
      /* A concurrent launch won the one-active-run-per-task index: same answer as the check. */
      if (isUniqueViolation(error, 'runs.task_id')) {
        throw new TaskError(
          'A run of this task is already in progress. Wait for it to finish.',
          409,
          'run_active'
        )
      }
      throw error
    })
    if ('rejected' in outcome)
      throw new NotEnoughTokens(outcome.rejected!.cost, outcome.rejected!.balance)
    return outcome.run
  }

  private launchIn(userId: string, taskId: string, runId: string, route: RunRoute | null) {
    return db.transaction(async (trx) => {
      const task = await Task.query({ client: trx })
        .where('id', String(taskId))
        .where('userId', userId)
        .firstOrFail()
      const active = await Run.query({ client: trx })
        .where('taskId', task.id)
        .whereIn('status', ACTIVE_RUN_STATUSES)
        .first()
      if (active) {
        throw new TaskError(
          'A run of this task is already in progress. Wait for it to finish.',
          409,
          'run_active'
        )
      }
      const inputs = await TaskInput.query({ client: trx }).where('taskId', task.id)
      const quote = this.quote(task, inputs)
      if (!quote.model)
        throw new TaskError('This model is no longer available. Create a new task.', 422)
      if (!route) throw new TaskError(MODEL_UNAVAILABLE, 422, 'model_unavailable')
      if (quote.missing.length) {
        throw new TaskError(
          `Upload the ${quote.missing.join(' and ').toLowerCase()} first.`,
          422,
          'inputs_missing'
        )
      }
      const cost = quote.cost!
      const number = task.runsCount + 1
      const debit = await walletService.change(
        {
          userId,
          action: 'used',
          diff: -cost,
          reference: `used:run:${runId}`,
          description: `Task "${task.name}" run #${number}`,
        },
        trx
      )
      if (debit.status !== 'applied') return { rejected: { cost, balance: debit.oldBalance } }

      const now = DateTime.now()
      const used: RunInput[] = quote.model.inputs.map((kind) => {
        const input = inputs.find((candidate) => candidate.kind === kind)!
        return {
          kind,
          storageKey: input.storageKey,
          name: input.originalName,
          size: input.size,
          duration: input.duration,
          type: input.mimeType,
        }
      })
      const run = await Run.create(
        {
          id: runId,
          taskId: task.id,
          userId,
          number,
          model: task.model,
          regeneration: number > 1,
          cost,
          status: 'queued',
          inputs: used,
          provider: route.provider,
          submitAttempts: 0,
          checkFailures: 0,
          outputAttempts: 0,
          nextCheckAt: now,
          deadlineAt: now.plus({ milliseconds: generationConfig.worker.runTimeoutMs }),
        },
        { client: trx }
      )
      task.runsCount = number
      await task.useTransaction(trx).save()
      return { run }
    })
  }
}

export default new TaskService()
