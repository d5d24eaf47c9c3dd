import { BaseModel, beforeCreate, column } from '@adonisjs/lucid/orm'
import { DateTime } from 'luxon'
import { uuidv7 } from '#helpers/ids'
import { ownedByScope } from '#models/scopes/owned_by'

export const ORDER_STATUSES = ['pending', 'paid', 'failed', 'expired'] as const
export type OrderStatus = (typeof ORDER_STATUSES)[number]

/**
 * A top-up order with a snapshot of its pack. Its status leaves `pending`
 * once, through BillingService's conditional updates only.
 */
export default class PaymentOrder extends BaseModel {
  /** `withScopes((s) => s.ownedBy(user))`: this user's rows only. */
  static ownedBy = ownedByScope<typeof PaymentOrder>()

  static selfAssignPrimaryKey = true

  @column({ isPrimary: true })
  declare id: string

  @column()
  declare userId: string

  @column()
  declare packName: string

  @column()
  declare priceCents: number

  @column()
  declare currency: string

  @column()
  declare tokens: number

  @column()
  declare gateway: string

  @column()
  declare gatewayPaymentId: string | null

  @column({ serializeAs: null })
  declare checkoutUrl: string | null

  @column()
  declare status: OrderStatus

  @column()
  declare failureReason: string | null

  @column.dateTime()
  declare lastCheckedAt: DateTime | null

  @column.dateTime()
  declare resolvedAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @beforeCreate()
  static assignId(order: PaymentOrder) {
    order.id ??= uuidv7()
  }

  get isPending() {
    return this.status === 'pending'
  }

  /** The ledger reference of the credit this order causes. */
  get creditReference() {
    return `topup:order:${this.id}`
  }
}
