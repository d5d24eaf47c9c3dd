import { BaseModel, beforeCreate, column, hasMany } from '@adonisjs/lucid/orm'
import type { HasMany } from '@adonisjs/lucid/types/relations'
import { DateTime } from 'luxon'
import { uuidv7 } from '#helpers/ids'
import { findModel } from '#config/models'
import TaskInput from '#models/task_input'
import Run from '#models/run'

export default class Task extends BaseModel {
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
    return this.modelType?.label ?? this.model
  }
}
