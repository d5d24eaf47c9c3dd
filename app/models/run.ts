import { BaseModel, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { DateTime } from 'luxon'
import type { InputKind } from '#config/models'
import Task from '#models/task'

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]
export const ACTIVE_RUN_STATUSES: RunStatus[] = ['queued', 'running']

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

  @column()
  declare errorMessage: string | null

  @column.dateTime()
  declare refundedAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @belongsTo(() => Task)
  declare task: BelongsTo<typeof Task>

  get isActive() {
    return ACTIVE_RUN_STATUSES.includes(this.status)
  }

  get hasOutput() {
    return this.status === 'succeeded' && !!this.outputKey
  }
}
