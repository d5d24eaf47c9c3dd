import db from '@adonisjs/lucid/services/db'
import { errors as lucidErrors } from '@adonisjs/lucid'
import { DateTime } from 'luxon'
import generationConfig from '#config/generation'
import { findModel, runCost, inputLabels, type ModelType } from '#config/models'
import Task from '#models/task'
import TaskInput from '#models/task_input'
import Run, { type RunInput, type RunStatus } from '#models/run'
import type { Owner } from '#models/scopes/owned_by'
import { uuidv7 } from '#helpers/ids'
import { isUniqueViolation } from '#helpers/db_errors'
import walletService from '#services/wallet_service'
import notificationMailer from '#services/notification_mailer'
import mediaStorage from '#integrations/storage/media_storage'
import { chooseProvider, isOffered, type RunRoute } from '#services/tasks/provider_routing'
import {
  InputsMissingException,
  LaunchWhileActiveException,
  ModelUnavailableException,
  NoProviderException,
  NotEnoughTokensException,
  RunActiveException,
  UnknownModelException,
} from '#exceptions/task_exceptions'

export const TASKS_PER_PAGE = 20

/*
 * Pages read only the columns they show. The dashboard reads plain rows
 * (`pojo()`): a model instance per row (naming, a luxon DateTime parsed per
 * date column, a deep copy of the originals) was most of its time
 * (docs/benchmarks.md, "Pages"). Timestamps stay SQL text there.
 */
export type TaskListRow = { id: string; name: string; model: string; created_at: string }
export type LatestRunRow = { task_id: string; status: RunStatus; cost: number; created_at: string }
const SHOWN_RUN_COLUMNS = [
  'id',
  'task_id',
  'number',
  'status',
  'cost',
  'created_at',
  'regeneration',
  'error_message',
  'refunded_at',
  'output_key',
  'poster_key',
  'finished_at',
]

/*
 * The task page polls its status every few seconds while a run is active:
 * one joined read of plain rows (the task's ownership and its runs), no
 * model instances. A task without runs is one row of nulls.
 */
export type PolledRunRow = {
  id: string | null
  number: number
  status: RunStatus
  cost: number
  error_message: string | null
  refunded_at: string | null
  output_key: string | null
  poster_key: string | null
  finished_at: string | null
}

export { MODEL_UNAVAILABLE } from '#exceptions/task_exceptions'

export type Quote = {
  model: ModelType | null
  missing: string[]
  seconds: number | null
  cost: number | null
}

/**
 * Tasks of one customer. Every lookup goes through the `ownedBy` scopes:
 * another user's task (or its files, runs and results) is simply not found
 * (404). What may be done with a task in its current state is TaskPolicy's
 * call; controllers authorize before calling in here.
 */
export class TaskService {
  /** The user's task, or a 404 (E_ROW_NOT_FOUND) when it is not theirs or does not exist. */
  async findOwned(owner: Owner, taskId: string) {
    return Task.query()
      .withScopes((scopes) => scopes.ownedBy(owner))
      .where('id', String(taskId))
      .firstOrFail()
  }

  async findOwnedRun(owner: Owner, task: Task, runId: string) {
    return Run.query()
      .withScopes((scopes) => scopes.ownedBy(owner))
      .where('id', String(runId))
      .where('taskId', task.id)
      .firstOrFail()
  }

  /** Dashboard page: newest first, each with its latest run. */
  async list(owner: Owner, page: number) {
    const tasks = await Task.query()
      .select('id', 'name', 'model', 'created_at')
      .withScopes((scopes) => scopes.ownedBy(owner))
      .orderBy('createdAt', 'desc')
      .orderBy('id', 'desc')
      .pojo<TaskListRow>()
      .paginate(page, TASKS_PER_PAGE)
    const ids = tasks.all().map((task) => task.id)
    const latest = ids.length
      ? await Run.query()
          .select('task_id', 'status', 'cost', 'created_at')
          .whereIn('taskId', ids)
          .whereRaw('number = (SELECT MAX(r2.number) FROM runs r2 WHERE r2.task_id = runs.task_id)')
          .pojo<LatestRunRow>()
      : []
    const byTask = new Map(latest.map((run) => [run.task_id, run]))
    /* The newest result with a poster per task, for the list's thumbnail. */
    const results = ids.length
      ? await Run.query()
          .select('id', 'task_id')
          .whereIn('taskId', ids)
          .where('status', 'succeeded')
          .whereNotNull('posterKey')
          .whereRaw(
            `number = (SELECT MAX(r2.number) FROM runs r2 WHERE r2.task_id = runs.task_id
               AND r2.status = 'succeeded' AND r2.poster_key IS NOT NULL)`
          )
          .pojo<{ id: string; task_id: string }>()
      : []
    const posters = new Map(
      results.map((run) => [run.task_id, `/tasks/${run.task_id}/runs/${run.id}/poster`])
    )
    return {
      tasks,
      latestRun: (task: TaskListRow) => byTask.get(task.id) ?? null,
      posterOf: (task: TaskListRow) => posters.get(task.id) ?? null,
    }
  }

  async create(userId: string, data: { name: string; model: string }) {
    if (!isOffered(data.model)) throw new UnknownModelException()
    return Task.create({ userId, name: data.name, model: data.model, runsCount: 0 })
  }

  async rename(task: Task, name: string) {
    task.name = name
    await task.save()
    return task
  }

  /**
   * Deletes a task and its files (the ledger keeps its rows). The delete is
   * conditional on the task being idle, so a run launched since the policy
   * check still blocks it.
   */
  async delete(task: Task) {
    const deleted = await db.transaction(async (trx) => {
      const idle = await Task.query({ client: trx })
        .where('id', task.id)
        .withScopes((scopes) => scopes.idle())
        .first()
      if (!idle) return false
      await idle.useTransaction(trx).delete()
      return true
    })
    if (!deleted) throw new RunActiveException('delete')
    await mediaStorage.deletePrefix(`tasks/${task.id}/`)
    return task
  }

  async inputsOf(task: Task) {
    return TaskInput.query().where('taskId', task.id).orderBy('kind', 'desc')
  }

  /** The task's runs as its page and status poll show them (read-only: not all columns). */
  async runsOf(task: Task) {
    return Run.query().select(SHOWN_RUN_COLUMNS).where('taskId', task.id).orderBy('number', 'desc')
  }

  /** The status poll's runs of the owner's task, newest first; a 404 when the task is not theirs. */
  async polledRuns(owner: Owner, taskId: string) {
    const rows = await Task.query()
      .withScopes((scopes) => scopes.ownedBy(owner))
      .where('tasks.id', String(taskId))
      .leftJoin('runs', 'runs.task_id', 'tasks.id')
      .select(
        'runs.id',
        'runs.number',
        'runs.status',
        'runs.cost',
        'runs.error_message',
        'runs.refunded_at',
        'runs.output_key',
        'runs.poster_key',
        'runs.finished_at'
      )
      .orderBy('runs.number', 'desc')
      .pojo<PolledRunRow>()
    if (!rows.length) throw new lucidErrors.E_ROW_NOT_FOUND(Task)
    return rows.filter((row) => row.id !== null) as (PolledRunRow & { id: string })[]
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
   * tokens: the refused debit is recorded, no run is created,
   * NotEnoughTokensException is thrown. A launch while a run is active is
   * refused by TaskPolicy; one that gets past it (a double click) loses on
   * the one-active-run-per-task index and gets the same answer.
   */
  async launch(owner: Owner, taskId: string) {
    const runId = uuidv7()
    /* Picked before the transaction (it reads the providers' health). */
    const task = await this.findOwned(owner, taskId)
    const model = findModel(task.model)
    const route = model ? await chooseProvider(model) : null
    if (model && !route) throw new NoProviderException(task.id)
    const outcome = await this.launchIn(owner, taskId, runId, route).catch((error) => {
      if (isUniqueViolation(error, 'runs.task_id')) throw new LaunchWhileActiveException(taskId)
      throw error
    })
    if ('rejected' in outcome) {
      const { cost, balance } = outcome.rejected!
      throw new NotEnoughTokensException(taskId, cost, balance)
    }
    return outcome.run
  }

  private launchIn(owner: Owner, taskId: string, runId: string, route: RunRoute | null) {
    return db.transaction(async (trx) => {
      const task = await Task.query({ client: trx })
        .withScopes((scopes) => scopes.ownedBy(owner))
        .where('id', String(taskId))
        .firstOrFail()
      const userId = task.userId
      const inputs = await TaskInput.query({ client: trx }).where('taskId', task.id)
      const quote = this.quote(task, inputs)
      if (!quote.model) throw new ModelUnavailableException(task.id)
      if (!route) throw new NoProviderException(task.id)
      if (quote.missing.length) throw new InputsMissingException(task.id, quote.missing)
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
      /* Not enough left for another run like this one: a reminder, at most daily. */
      if (debit.newBalance < cost) {
        await notificationMailer.queueLowBalance(trx, { userId, cost, balance: debit.newBalance })
      }

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
