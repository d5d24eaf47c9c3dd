import { BaseModel, column } from '@adonisjs/lucid/orm'
import { DateTime } from 'luxon'

export const LEDGER_ACTIONS = ['topup', 'used', 'manual', 'refund'] as const
export type LedgerAction = (typeof LEDGER_ACTIONS)[number]
export type LedgerStatus = 'applied' | 'rejected'

/** One row of the token ledger. Written only by WalletService. */
export default class LedgerEntry extends BaseModel {
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
