import { createHash, randomBytes } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import hash from '@adonisjs/core/services/hash'
import { errors as authErrors } from '@adonisjs/auth'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import User, { type UserStatus } from '#models/user'
import AccountToken, { type AccountTokenPurpose } from '#models/account_token'

/** Activation and reset links are valid for 24 hours (SPEC §1). */
export const TOKEN_TTL_HOURS = 24

export type TokenCheck =
  | { ok: true; token: AccountToken; user: User }
  | { ok: false; reason: 'invalid' | 'expired' | 'used' }

export type LoginResult =
  | { ok: true; user: User }
  | { ok: false; reason: 'invalid_credentials' | 'not_activated' | 'blocked'; user?: User }

export function hashToken(plain: string) {
  return createHash('sha256').update(plain).digest('hex')
}

/**
 * Accounts: sign-up, activation, login rules, password reset and status
 * changes. Knows nothing about HTTP; mails are sent by the caller.
 */
export class AccountService {
  async findByEmail(email: string) {
    return User.findBy('email', User.normalizeEmail(email))
  }

  /** Finds a user by public id or by email (for admin commands). */
  async findByIdOrEmail(idOrEmail: string) {
    const key = idOrEmail.trim()
    return key.includes('@') ? this.findByEmail(key) : User.find(key)
  }

  /**
   * Creates a `new` user. Returns `created: false` with the existing user
   * when the email is taken, so the caller can answer the same way.
   */
  async signup(
    email: string,
    password: string,
    onCreated?: (user: User, trx: TransactionClientContract) => Promise<void>
  ) {
    const normalized = User.normalizeEmail(email)
    const existing = await this.findByEmail(normalized)
    if (existing) {
      // Spend the same hashing time as a real sign-up so timing does not tell.
      await hash.make(password)
      return { user: existing, created: false as const }
    }

    try {
      const user = await db.transaction(async (trx) => {
        const created = await User.create(
          { email: normalized, password, status: 'new', balance: 0 },
          { client: trx }
        )
        await onCreated?.(created, trx)
        return created
      })
      return { user, created: true as const }
    } catch (error) {
      // Lost a race with a concurrent sign-up for the same email.
      const raced = await this.findByEmail(normalized)
      if (raced) return { user: raced, created: false as const }
      throw error
    }
  }

  /**
   * Issues a one-time link token. Only its SHA-256 is stored. A new reset
   * link supersedes older unused ones.
   */
  async issueToken(user: User, purpose: AccountTokenPurpose) {
    const plain = randomBytes(32).toString('base64url')
    await db.transaction(async (trx) => {
      if (purpose === 'reset') {
        await AccountToken.query({ client: trx })
          .withScopes((scopes) => scopes.ownedBy(user))
          .where('purpose', 'reset')
          .whereNull('used_at')
          .delete()
      }
      await AccountToken.create(
        {
          userId: user.id,
          purpose,
          tokenHash: hashToken(plain),
          expiresAt: DateTime.now().plus({ hours: TOKEN_TTL_HOURS }),
        },
        { client: trx }
      )
    })
    return plain
  }

  /** Read-only check of a link token (used by GET pages). */
  async checkToken(plain: unknown, purpose: AccountTokenPurpose): Promise<TokenCheck> {
    if (typeof plain !== 'string' || plain.length < 20 || plain.length > 200) {
      return { ok: false, reason: 'invalid' }
    }
    const token = await AccountToken.query()
      .where('token_hash', hashToken(plain))
      .where('purpose', purpose)
      .preload('user')
      .first()
    if (!token) return { ok: false, reason: 'invalid' }
    if (token.usedAt) return { ok: false, reason: 'used' }
    if (token.expiresAt <= DateTime.now()) return { ok: false, reason: 'expired' }
    return { ok: true, token, user: token.user }
  }

  /** Marks the token used; false when another request spent it first. */
  private async spend(token: AccountToken, trx: TransactionClientContract) {
    const updated = await trx
      .from('account_tokens')
      .where('id', token.id)
      .whereNull('used_at')
      .update({ used_at: DateTime.now().toSQL({ includeOffset: false }) })
    return Number(updated) === 1
  }

  async activate(plain: unknown): Promise<TokenCheck> {
    const check = await this.checkToken(plain, 'activation')
    if (!check.ok) return check
    const spent = await db.transaction(async (trx) => {
      if (!(await this.spend(check.token, trx))) return false
      const user = await User.findOrFail(check.user.id, { client: trx })
      // A blocked user stays blocked; only `new` users become active.
      if (user.status === 'new') {
        user.status = 'activated'
        user.activatedAt = DateTime.now()
        await user.save()
      }
      check.user = user
      return true
    })
    return spent ? check : { ok: false, reason: 'used' }
  }

  async resetPassword(plain: unknown, password: string): Promise<TokenCheck> {
    const check = await this.checkToken(plain, 'reset')
    if (!check.ok) return check
    const spent = await db.transaction(async (trx) => {
      if (!(await this.spend(check.token, trx))) return false
      const user = await User.findOrFail(check.user.id, { client: trx })
      await this.applyPasswordChange(user, password, trx)
      check.user = user
      return true
    })
    return spent ? check : { ok: false, reason: 'used' }
  }

  /** Any password change ends other sessions and voids pending reset links. */
  async applyPasswordChange(user: User, password: string, trx: TransactionClientContract) {
    user.useTransaction(trx)
    user.password = password
    user.sessionVersion += 1
    await user.save()
    await AccountToken.query({ client: trx })
      .withScopes((scopes) => scopes.ownedBy(user))
      .where('purpose', 'reset')
      .whereNull('used_at')
      .delete()
  }

  /**
   * Login rules: wrong credentials are one generic answer; the password is
   * checked before the status so the status never leaks to a stranger.
   */
  async attemptLogin(email: string, password: string): Promise<LoginResult> {
    let user: User
    try {
      user = await User.verifyCredentials(User.normalizeEmail(email), password)
    } catch (error) {
      // Only wrong credentials are an answer; a database outage must surface as an error page.
      if (error instanceof authErrors.E_INVALID_CREDENTIALS) {
        return { ok: false, reason: 'invalid_credentials' }
      }
      throw error
    }
    if (user.status === 'blocked') return { ok: false, reason: 'blocked', user }
    if (user.status !== 'activated') return { ok: false, reason: 'not_activated', user }
    return { ok: true, user }
  }

  /**
   * Sets a user's status (admin API and Ace). Blocking and un-activating end
   * the user's sessions at their next request.
   */
  async setStatus(user: User, status: UserStatus) {
    const previous = user.status
    if (previous === status) return { previous, user }
    user.status = status
    if (status === 'activated' && !user.activatedAt) user.activatedAt = DateTime.now()
    if (status !== 'activated') user.sessionVersion += 1
    await user.save()
    return { previous, user }
  }
}

export default new AccountService()
