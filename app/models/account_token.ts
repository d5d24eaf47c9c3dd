import { BaseModel, belongsTo, column } from '@adonisjs/lucid/orm'
import type { BelongsTo } from '@adonisjs/lucid/types/relations'
import { DateTime } from 'luxon'
import User from '#models/user'
import { ownedByScope } from '#models/scopes/owned_by'

export type AccountTokenPurpose = 'activation' | 'reset'

export default class AccountToken extends BaseModel {
  /** `withScopes((s) => s.ownedBy(user))`: this user's rows only. */
  static ownedBy = ownedByScope<typeof AccountToken>()

  @column({ isPrimary: true })
  declare id: number

  @column()
  declare userId: string

  @column()
  declare purpose: AccountTokenPurpose

  @column({ serializeAs: null })
  declare tokenHash: string

  @column.dateTime()
  declare expiresAt: DateTime

  @column.dateTime()
  declare usedAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @belongsTo(() => User)
  declare user: BelongsTo<typeof User>
}
