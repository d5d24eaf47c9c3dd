import { BaseModel, column } from '@adonisjs/lucid/orm'
import { DateTime } from 'luxon'
import { ownedByScope } from '#models/scopes/owned_by'

export const LEDGER_ACTIONS = ['topup', 'used', 'manual', 'refund'] as const
export type LedgerAction = (typeof LEDGER_ACTIONS)[number]
export type LedgerStatus = 'applied' | 'rejected'

/** One row of the token ledger. Written only by WalletService. */
export default class LedgerEntry extends BaseModel {
  /** `withScopes((s) => s.ownedBy(user))`: this user's rows only. */
  static ownedBy = ownedByScope<typeof LedgerEntry>()

  @column({ isPrimary: true })
  declare id: number

  @column()
  declare userId: string

  @column()
  declare action: LedgerAction

  @column()
  declare status: LedgerStatus

  @column()
  declare diff: number

  @column()
  declare oldBalance: number

  @column()
  declare newBalance: number

  @column()
  declare reference: string

  @column()
  declare description: string

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime
}
