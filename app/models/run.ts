import { BaseModel, belongsTo, column, scope } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import type { ModelQueryBuilderContract } from '@adonisjs/lucid/types/model'
import { DateTime } from 'luxon'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type { InputKind } from '#config/models'
import Task from '#models/task'
import { sqlTime } from '#helpers/sql_time'
import { ownedByScope } from '#models/scopes/owned_by'

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]
export const ACTIVE_RUN_STATUSES: RunStatus[] = ['queued', 'running']

/** A run's result can be watched and downloaded (a model, or a plain row's fields). */
export function hasOutput(run: { status: RunStatus; outputKey: string | null }) {
  return run.status === 'succeeded' && !!run.outputKey
}

/**
 * The allowed status changes. While active, a run follows the provider's
 * word (a provider may put a started job back in its queue). `succeeded` and
 * `failed` are final: a late status, webhook or output never moves a
 * finished (and possibly refunded) run again.
 */
export const RUN_TRANSITIONS: Record<RunStatus, readonly RunStatus[]> = {
  queued: ['queued', 'running', 'succeeded', 'failed'],
  running: ['queued', 'running', 'succeeded', 'failed'],
  succeeded: [],
  failed: [],
}

/** The statuses a run may be in for a move to `to` to be allowed. */
export function statusesBefore(to: RunStatus) {
  return RUN_STATUSES.filter((from) => RUN_TRANSITIONS[from].includes(to))
}

/* The columns the worker changes after launch. */
type RunChanges = Partial<
  Pick<
    Run,
    | 'providerJobId'
    | 'providerStatus'
    | 'submitAttempts'
    | 'checkFailures'
    | 'outputAttempts'
    | 'nextCheckAt'
    | 'submittedAt'
    | 'finishedAt'
    | 'outputKey'
    | 'outputSize'
    | 'posterKey'
    | 'errorMessage'
    | 'providerError'
    | 'refundedAt'
  >
>

type WriteOptions = {
  /* Join the caller's transaction. */
  client?: TransactionClientContract
  /* Only while no job id is stored (the first submit wins). */
  withoutJobId?: boolean
}

/* What a run used, frozen at launch (a later re-upload does not change it). */
export type RunInput = {
  kind: InputKind
  storageKey: string
  name: string
  size: number
  duration: number
  type: string
}

export default class Run extends BaseModel {
  /** `withScopes((s) => s.ownedBy(user))`: this user's rows only. */
  static ownedBy = ownedByScope<typeof Run>()

  /** Runs still queued or running (at most one per task, by a unique index). */
  static active = scope((query: ModelQueryBuilderContract<typeof Run>) => {
    query.whereIn('runs.status', ACTIVE_RUN_STATUSES)
  })

  static selfAssignPrimaryKey = true

  @column({ isPrimary: true })
  declare id: string

  @column()
  declare taskId: string

  @column()
  declare userId: string

  /* 1, 2, 3… within the task */
  @column()
  declare number: number

  @column()
  declare model: string

  @column({ consume: (value) => Boolean(value) })
  declare regeneration: boolean

  @column()
  declare cost: number

  @column()
  declare status: RunStatus

  @column({
    prepare: (value: RunInput[]) => JSON.stringify(value),
    consume: (value: string) => JSON.parse(value),
  })
  declare inputs: RunInput[]

  @column()
  declare provider: string

  @column()
  declare providerJobId: string | null

  /* The provider's own status word, kept for support. */
  @column()
  declare providerStatus: string | null

  @column()
  declare submitAttempts: number

  @column()
  declare checkFailures: number

  @column()
  declare outputAttempts: number

  @column.dateTime()
  declare nextCheckAt: DateTime

  @column.dateTime()
  declare deadlineAt: DateTime

  @column.dateTime()
  declare submittedAt: DateTime | null

  @column.dateTime()
  declare finishedAt: DateTime | null

  @column({ serializeAs: null })
  declare outputKey: string | null

  @column()
  declare outputSize: number | null

  /* A JPEG still of the result, for the player's poster and the task list. */
  @column({ serializeAs: null })
  declare posterKey: string | null

  @column()
  declare errorMessage: string | null

  /* The provider's raw error, for support only (never shown to the customer). */
  @column({ serializeAs: null })
  declare providerError: string | null

  /* When a verified webhook last said the provider job changed. */
  @column.dateTime()
  declare webhookAt: DateTime | null

  @column.dateTime()
  declare refundedAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => Task)
  declare task: BelongsTo<typeof Task>

  /**
   * Moves the run to `to` (with other column changes) if the row's status
   * in the database still allows it (see RUN_TRANSITIONS); one conditional
   * UPDATE, so a concurrent finish in another process wins cleanly. True
   * when the row moved; the instance is updated to match.
   */
  async moveTo(to: RunStatus, changes: RunChanges = {}, options: WriteOptions = {}) {
    return this.write({ ...changes, status: to }, statusesBefore(to), options)
  }

  /** Column changes without a status change, only while the run is active. */
  async updateWhileActive(changes: RunChanges, options: WriteOptions = {}) {
    return this.write(changes, ACTIVE_RUN_STATUSES, options)
  }

  /** Bookkeeping (attempt counters, next check) written whatever the status. */
  async updateProgress(changes: RunChanges, options: WriteOptions = {}) {
    return this.write(changes, null, options)
  }

  /**
   * A verified webhook said a job changed: check it at the next tick instead
   * of the next poll. `runId` (from the webhook URL we registered) also finds
   * a run whose submit answer has not been stored yet; `webhookAt` remembers
   * the early webhook so the run is checked as soon as its job id is stored.
   */
  static async checkSoon(provider: string, providerJobId: string, runId?: string) {
    const now = sqlTime(DateTime.now())
    const [affected] = await Run.query()
      .where('provider', provider)
      .whereIn('status', ACTIVE_RUN_STATUSES)
      .where((query) => {
        query.where('providerJobId', providerJobId)
        if (runId) query.orWhere((early) => early.where('id', runId).whereNull('providerJobId'))
      })
      .update({ nextCheckAt: now, webhookAt: now })
    return Number(affected)
  }

  private async write(
    changes: RunChanges & { status?: RunStatus },
    allowedStatuses: readonly RunStatus[] | null,
    { client, withoutJobId = false }: WriteOptions
  ) {
    const now = DateTime.now()
    const values: Record<string, unknown> = { updatedAt: sqlTime(now) }
    for (const [key, value] of Object.entries(changes)) {
      values[key] = value instanceof DateTime ? sqlTime(value) : value
    }
    const query = Run.query({ client }).where('id', this.id)
    if (allowedStatuses) query.whereIn('status', [...allowedStatuses])
    if (withoutJobId) query.whereNull('providerJobId')
    const [affected] = await query.update(values)
    if (Number(affected) !== 1) return false
    Object.assign(this, changes)
    this.updatedAt = now
    this.$hydrateOriginals()
    return true
  }

  get isActive() {
    return ACTIVE_RUN_STATUSES.includes(this.status)
  }

  get hasOutput() {
    return hasOutput(this)
  }
}
