import User, { type UserStatus } from '#models/user'
import LedgerEntry from '#models/ledger_entry'
import PaymentOrder from '#models/payment_order'
import accountService from '#services/account_service'
import walletService from '#services/wallet_service'
import { uuidv7 } from '#helpers/ids'
import { IdempotencyKeyReusedException, UnknownUserException } from '#exceptions/admin_exceptions'

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
  /** The user with this id (the API's `userID`). */
  async findUser(userId: string) {
    const user = await User.find(userId)
    if (!user) throw new UnknownUserException()
    return user
  }

  /** The user with this email, whatever its case. */
  async findUserByEmail(email: string) {
    const user = await accountService.findByEmail(email)
    if (!user) throw new UnknownUserException('No user with this email')
    return user
  }

  /** An id or an email, as operators type it into the Ace commands. */
  async findUserByIdOrEmail(idOrEmail: string) {
    const user = await accountService.findByIdOrEmail(idOrEmail)
    if (!user) throw new UnknownUserException(`No user ${idOrEmail}`)
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
        throw new IdempotencyKeyReusedException()
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
      throw new IdempotencyKeyReusedException()
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
      .withScopes((scopes) => scopes.ownedBy(user))
      .orderBy('id', 'desc')
      .limit(rows)
    const orders = await PaymentOrder.query()
      .withScopes((scopes) => scopes.ownedBy(user))
      .count('* as total')
    return { user, entries, orderCount: Number(orders[0].$extras.total) }
  }
}

export default new AdminService()
