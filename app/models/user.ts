import { BaseModel, beforeCreate, column } from '@adonisjs/lucid/orm'
import hash from '@adonisjs/core/services/hash'
import { compose } from '@adonisjs/core/helpers'
import { withAuthFinder } from '@adonisjs/auth/mixins/lucid'
import { DateTime } from 'luxon'
import { uuidv7 } from '#helpers/ids'

export const USER_STATUSES = ['new', 'activated', 'blocked'] as const
export type UserStatus = (typeof USER_STATUSES)[number]

const AuthFinder = withAuthFinder(() => hash.use('scrypt'), {
  uids: ['email'],
  passwordColumnName: 'password',
})

export default class User extends compose(BaseModel, AuthFinder) {
  static selfAssignPrimaryKey = true

  @column({ isPrimary: true })
  declare id: string

  @column()
  declare email: string

  @column({ serializeAs: null })
  declare password: string

  @column()
  declare status: UserStatus

  /* Cached balance; only WalletService writes it. */
  @column()
  declare balance: number

  @column({ serializeAs: null })
  declare sessionVersion: number

  @column.dateTime()
  declare activatedAt: DateTime | null

  /* Mail when a run finishes (success or failure). */
  @column({ consume: (value) => Boolean(value) })
  declare notifyRuns: boolean

  /* Mail (at most daily) when a launch leaves less than its cost. */
  @column({ consume: (value) => Boolean(value) })
  declare notifyLowBalance: boolean

  /* Set when the customer deleted the account (the row stays, without personal data). */
  @column.dateTime()
  declare deletedAt: DateTime | null

  @column.dateTime({ autoCreate: true })
  declare createdAt: DateTime

  @column.dateTime({ autoCreate: true, autoUpdate: true })
  declare updatedAt: DateTime

  @beforeCreate()
  static assignDefaults(user: User) {
    user.id ??= uuidv7()
    user.status ??= 'new'
    user.balance ??= 0
    user.sessionVersion ??= 1
    user.notifyRuns ??= true
    user.notifyLowBalance ??= true
  }

  /* Emails are compared lower-cased and trimmed everywhere. */
  static normalizeEmail(email: string) {
    return email.trim().toLowerCase()
  }

  get isActivated() {
    return this.status === 'activated'
  }
}
