import { BaseModel, beforeCreate, column, hasMany, scope } from '@adonisjs/lucid/orm'
import type { HasMany } from '@adonisjs/lucid/types/relations'
import type { ModelQueryBuilderContract } from '@adonisjs/lucid/types/model'
import { DateTime } from 'luxon'
import { uuidv7 } from '#helpers/ids'
import { findModel } from '#config/models'
import TaskInput from '#models/task_input'
import Run from '#models/run'
import { ownedByScope } from '#models/scopes/owned_by'

export default class Task extends BaseModel {
  /** `withScopes((s) => s.ownedBy(user))`: this user's rows only. */
  static ownedBy = ownedByScope<typeof Task>()

  /**
   * Tasks without an active run: what delete, launch and replacing an input
   * need (TaskPolicy). In a transaction it is also the race check.
   */
  static idle = scope((query: ModelQueryBuilderContract<typeof Task>) => {
    query.whereDoesntHave('runs', (runs) => runs.withScopes((scopes) => scopes.active()))
  })

  static selfAssignPrimaryKey = true

  @column({ isPrimary: true })
  declare id: string

  @column()
  declare userId: string

  @column()
  declare name: string

  /* Key in config/models.ts */
  @column()
  declare model: string

  /* Runs launched so far; the next run is number runsCount + 1. */
  @column()
  declare runsCount: number

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @hasMany(() => TaskInput)
  declare inputs: HasMany<typeof TaskInput>

  @hasMany(() => Run)
  declare runs: HasMany<typeof Run>

  @beforeCreate()
  static assignId(task: Task) {
    task.id ??= uuidv7()
  }

  get modelType() {
    return findModel(this.model)
  }

  get modelLabel() {
    return Task.labelOf(this.model)
  }

  /** The model's name for people (the key itself when the model was removed). */
  static labelOf(model: string) {
    return findModel(model)?.label ?? model
  }
}
