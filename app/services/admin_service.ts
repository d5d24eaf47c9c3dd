import db from '@adonisjs/lucid/services/db'
import User, { USER_STATUSES, type UserStatus } from '#models/user'
import LedgerEntry from '#models/ledger_entry'
import accountService from '#services/account_service'
import walletService, { MAX_ABS_DIFF } from '#services/wallet_service'
import { uuidv7 } from '#helpers/ids'

/** Input an operator got wrong; `field` names what. Maps to a 400 / a CLI error. */
export class AdminInputError extends Error {
  constructor(
    public field: string,
    message: string
  ) {
    super(message)
  }
}

export class AdminUnknownUserError extends Error {}

/** The same Idempotency-Key used before for another user or another diff. */
export class IdempotencyConflictError extends Error {}

/**
 * A diff as the API and the CLI accept it: an integer (JSON number) or a
 * string of digits with an optional sign, non-zero, at most 1e9 in
 * absolute value. No spaces, no decimals, no exponents.
 */
export function parseDiff(value: unknown): number {
  if (value === undefined || value === null) throw new AdminInputError('diff', 'diff is required')
  let diff: number
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new AdminInputError('diff', 'diff must be an integer')
    diff = value
  } else if (typeof value === 'string') {
    if (!/^[+-]?\d{1,10}$/.test(value)) {
      throw new AdminInputError(
        'diff',
        'diff must be an integer like 100 or -100 (no spaces or decimals)'
      )
    }
    diff = Number(value)
  } else {
    throw new AdminInputError('diff', 'diff must be an integer or a string of digits')
  }
  if (diff === 0) throw new AdminInputError('diff', 'diff must not be zero')
  if (Math.abs(diff) > MAX_ABS_DIFF)
    throw new AdminInputError('diff', `diff must be at most ${MAX_ABS_DIFF} in absolute value`)
  return diff
}

export function parseStatus(value: unknown): UserStatus {
  if (typeof value === 'string' && (USER_STATUSES as readonly string[]).includes(value))
    return value as UserStatus
  throw new AdminInputError('status', `status must be one of ${USER_STATUSES.join(', ')}`)
}

/** Idempotency keys: 1–128 visible ASCII characters. */
export function parseIdempotencyKey(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null
  if (typeof value !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(value)) {
    throw new AdminInputError(
      'Idempotency-Key',
      'Idempotency-Key must be 1–128 visible ASCII characters'
    )
  }
  return value
}

export type BalanceAdjustment = {
  status: 'applied' | 'rejected' | 'duplicate'
  userId: string
  diff: number
  oldBalance: number
  newBalance: number
}

/**
 * What operators do (internal API and Ace commands), through the same
 * services as the app: AccountService for statuses, WalletService for
 * balances.
 */
export class AdminService {
  async findUser(idOrEmail: unknown, options: { allowEmail?: boolean } = {}) {
    if (typeof idOrEmail !== 'string' || idOrEmail.trim() === '' || idOrEmail.length > 254) {
      throw new AdminInputError('userID', 'userID is required')
    }
    const user = options.allowEmail
      ? await accountService.findByIdOrEmail(idOrEmail)
      : await User.find(idOrEmail)
    if (!user) throw new AdminUnknownUserError(`No user ${idOrEmail}`)
    return user
  }

  /** `blocked` and `new` end the user's sessions; `activated` lets an unverified user in. */
  async setStatus(user: User, status: UserStatus) {
    const { previous } = await accountService.setStatus(user, status)
    return { userId: user.id, email: user.email, oldStatus: previous, newStatus: user.status }
  }

  /**
   * A manual balance change. With an idempotency key the reference is
   * `manual:key:<key>`, so a retried request applies once; a key reused
   * for a different user or diff is refused.
   */
  async adjustBalance(user: User, diff: number, idempotencyKey: string | null, via: 'api' | 'cli') {
    const reference = idempotencyKey ? `manual:key:${idempotencyKey}` : `manual:${via}:${uuidv7()}`
    if (idempotencyKey) {
      const earlier = await LedgerEntry.query()
        .where('reference', reference)
        .where('status', 'applied')
        .first()
      if (earlier && (earlier.userId !== user.id || earlier.diff !== diff)) {
        throw new IdempotencyConflictError(
          'This Idempotency-Key was already used for a different change'
        )
      }
    }
    const result = await walletService.change({
      userId: user.id,
      action: 'manual',
      diff,
      reference,
      description: 'Manual adjustment',
    })
    if (
      result.status === 'duplicate' &&
      (result.entry.userId !== user.id || result.entry.diff !== diff)
    ) {
      throw new IdempotencyConflictError(
        'This Idempotency-Key was already used for a different change'
      )
    }
    return {
      status: result.status,
      userId: user.id,
      diff,
      oldBalance: result.oldBalance,
      newBalance: result.newBalance,
    } satisfies BalanceAdjustment
  }

  /** Balance, status and the last ledger rows (applied and refused), for `user:show`. */
  async describe(user: User, rows = 10) {
    const entries = await LedgerEntry.query()
      .where('user_id', user.id)
      .orderBy('id', 'desc')
      .limit(rows)
    const orders = await db.from('payment_orders').where('user_id', user.id).count('* as total')
    return { user, entries, orderCount: Number(orders[0].total) }
  }
}

export default new AdminService()
