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
  }

  /* Emails are compared lower-cased and trimmed everywhere. */
  static normalizeEmail(email: string) {
    return email.trim().toLowerCase()
  }

  get isActivated() {
    return this.status === 'activated'
  }
}
