import { BaseModel, beforeCreate, column } from '@adonisjs/lucid/orm'
import { DateTime } from 'luxon'
import { uuidv7 } from '#helpers/ids'
import type { InputKind } from '#config/models'

/* The current file in one input slot of a task. */
export default class TaskInput extends BaseModel {
  static selfAssignPrimaryKey = true

  @column({ isPrimary: true })
  declare id: string

  @column()
  declare taskId: string

  @column()
  declare kind: InputKind

  /* Generated storage key; never derived from the user's file name. */
  @column({ serializeAs: null })
  declare storageKey: string

  /* Sanitised display name of the uploaded file. */
  @column()
  declare originalName: string

  @column()
  declare mimeType: string

  @column()
  declare container: string

  @column()
  declare size: number

  /* Seconds */
  @column()
  declare duration: number

  @column()
  declare width: number | null

  @column()
  declare height: number | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @beforeCreate()
  static assignId(input: TaskInput) {
    input.id ??= uuidv7()
  }
}
