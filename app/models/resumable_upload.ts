import { BaseModel, column } from '@adonisjs/lucid/orm'
import { DateTime } from 'luxon'
import type { InputKind } from '#config/models'
import { ownedByScope } from '#models/scopes/owned_by'

/* A tus upload in progress (see the migration); its id is the tus upload id. */
export default class ResumableUpload extends BaseModel {
  /** `withScopes((s) => s.ownedBy(user))`: this user's rows only. */
  static ownedBy = ownedByScope<typeof ResumableUpload>()

  static selfAssignPrimaryKey = true

  @column({ isPrimary: true })
  declare id: string

  @column()
  declare userId: string

  @column()
  declare taskId: string

  @column()
  declare kind: InputKind

  /* As the client sent it in Upload-Metadata; sanitised when it becomes the input. */
  @column()
  declare fileName: string

  /* Upload-Length, checked against the kind's limit at creation. */
  @column()
  declare length: number

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime
}
