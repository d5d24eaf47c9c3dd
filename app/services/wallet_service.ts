import { Exception } from '@adonisjs/core/exceptions'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import LedgerEntry, { type LedgerAction } from '#models/ledger_entry'
import { recordEventSync } from '#services/dwh/outbox'
import { sqlNow } from '#helpers/sql_time'
import { isUniqueViolation } from '#helpers/db_errors'

export type BalanceChange = {
  userId: string
  action: LedgerAction
  /** Signed token amount: positive credits, negative debits. */
  diff: number
  /**
   * Unique per real-world cause (`topup:order:42`, `used:run:7`,
   * `refund:run:7`, `manual:key:abc`). A second change with the same
   * reference is a replay and applies nothing.
   */
  reference: string
  /** Shown on the usage page, e.g. `Bought "medium" pack`. */
  description: string
}

export type BalanceChangeResult = {
  status: 'applied' | 'rejected' | 'duplicate'
  entry: LedgerEntry
  oldBalance: number
  newBalance: number
}

/* A caller's bug, never the user's input (controllers validate first): a 500 if it escapes. */
export class UnknownUserError extends Exception {
  static status = 500
  static code = 'E_WALLET_UNKNOWN_USER'

  constructor(public userId: string) {
    super(`Unknown user ${userId}`)
  }
}

export class InvalidDiffError extends Exception {
  static status = 500
  static code = 'E_WALLET_INVALID_DIFF'
}

/* Same ceiling as the admin API: keeps sums far from 2^53. */
export const MAX_ABS_DIFF = 1_000_000_000

/**
 * The only code that changes a balance. Each change runs in one
 * transaction: a conditional update of users.balance (never below zero), a
 * ledger row and an analytics outbox row. A refused debit is recorded as a
 * `rejected` row and changes nothing.
 */
export class WalletService {
  /**
   * Applies a change. Pass `trx` to make it part of a larger transaction
   * (e.g. debit + queue a run); otherwise it opens its own.
   */
  async change(
    change: BalanceChange,
    trx?: TransactionClientContract
  ): Promise<BalanceChangeResult> {
    if (
      !Number.isSafeInteger(change.diff) ||
      change.diff === 0 ||
      Math.abs(change.diff) > MAX_ABS_DIFF
    ) {
      throw new InvalidDiffError('diff must be a non-zero integer of at most 1e9 in absolute value')
    }
    if (trx) return this.applyIn(trx, change)
    try {
      return await this.applyQueued(change)
    } catch (error) {
      // A concurrent replay won the race on the unique reference.
      if (isUniqueViolation(error)) return this.duplicateOf(change)
      throw error
    }
  }

  /* Changes waiting for the connection; applied together in one transaction (group commit). */
  private queue: {
    change: BalanceChange
    resolve: (r: BalanceChangeResult) => void
    reject: (e: unknown) => void
  }[] = []
  private draining = false

  /**
   * The same change as `applyIn`, in its own transaction, run synchronously
   * on the better-sqlite3 connection (statements prepared once). Changes
   * that arrive while the connection is busy wait in a queue and are then
   * applied together: one BEGIN IMMEDIATE … COMMIT, each change inside its
   * own SAVEPOINT, so each is still all-or-nothing on its own and gets its
   * own result, while the commit cost is shared (see the Wallet section of
   * docs/benchmarks.md).
   */
  private applyQueued(change: BalanceChange): Promise<BalanceChangeResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ change, resolve, reject })
      if (!this.draining) void this.drain()
    })
  }

  private async drain() {
    this.draining = true
    const knexClient = (db.connection().getWriteClient() as any).client
    try {
      while (this.queue.length > 0) {
        let conn: any
        try {
          conn = await knexClient.acquireConnection()
        } catch (error) {
          for (const item of this.queue.splice(0)) item.reject(error)
          break
        }
        /* Everything queued while waiting for the connection goes in this batch. */
        const batch = this.queue.splice(0, 500)
        try {
          const outcomes = conn
            .transaction(() =>
              batch.map(({ change }) => {
                try {
                  /* A nested better-sqlite3 transaction is a SAVEPOINT. */
                  return {
                    ok: true as const,
                    value: conn.transaction(() => this.applySync(conn, change))(),
                  }
                } catch (error) {
                  /* SQLite rolled the whole transaction back (I/O error, disk full): abort the batch. */
                  if (!conn.inTransaction) throw error
                  return { ok: false as const, error }
                }
              })
            )
            .immediate()
          outcomes.forEach((outcome: any, index: number) => {
            if (!outcome.ok) return batch[index].reject(outcome.error)
            batch[index].resolve(outcome.value)
          })
        } catch (error) {
          /* BEGIN or COMMIT failed: nothing in the batch was applied. */
          for (const item of batch) item.reject(error)
        } finally {
          await knexClient.releaseConnection(conn)
        }
      }
    } finally {
      this.draining = false
    }
  }

  /**
   * The one implementation of a balance change, on a better-sqlite3
   * connection that is already inside a transaction (ours or the caller's).
   */
  private applySync(conn: any, change: BalanceChange): BalanceChangeResult {
    const replay = conn
      .prepare(`SELECT * FROM ledger_entries WHERE reference = ? AND status = 'applied' LIMIT 1`)
      .get(change.reference)
    if (replay) return this.result('duplicate', replay)

    const now = sqlNow()
    /* Conditional update: the balance cannot go below zero, whatever runs concurrently. */
    const updated = conn
      .prepare(
        'UPDATE users SET balance = balance + ?, updated_at = ? WHERE id = ? AND balance + ? >= 0 RETURNING balance, email'
      )
      .get(change.diff, now, change.userId, change.diff)
    const user =
      updated ?? conn.prepare('SELECT email, balance FROM users WHERE id = ?').get(change.userId)
    if (!user) throw new UnknownUserError(change.userId)
    const status = updated ? ('applied' as const) : ('rejected' as const)
    const newBalance: number = user.balance
    const oldBalance = updated ? newBalance - change.diff : newBalance

    const values = {
      user_id: change.userId,
      action: change.action,
      status,
      diff: change.diff,
      old_balance: oldBalance,
      new_balance: newBalance,
      reference: change.reference,
      description: change.description,
      created_at: now,
    }
    const inserted = conn
      .prepare(
        `INSERT INTO ledger_entries (user_id, action, status, diff, old_balance, new_balance, reference, description, created_at)
         VALUES (@user_id, @action, @status, @diff, @old_balance, @new_balance, @reference, @description, @created_at)
         RETURNING id`
      )
      .get(values)
    recordEventSync(conn, 'token_balance_changes', {
      userid: change.userId,
      email: user.email,
      action: change.action,
      diff: change.diff,
      old_balance: oldBalance,
      new_balance: newBalance,
      status,
      reference: change.reference,
    })
    return this.result(status, { id: inserted.id, ...values })
  }

  private result(status: BalanceChangeResult['status'], row: Record<string, any>) {
    return {
      status,
      entry: LedgerEntry.$createFromAdapterResult(row)!,
      oldBalance: row.old_balance as number,
      newBalance: row.new_balance as number,
    }
  }

  private async duplicateOf(change: BalanceChange) {
    const entry = await LedgerEntry.query()
      .where('reference', change.reference)
      .where('status', 'applied')
      .firstOrFail()
    return {
      status: 'duplicate' as const,
      entry,
      oldBalance: entry.oldBalance,
      newBalance: entry.newBalance,
    }
  }

  /**
   * A change inside the caller's transaction (e.g. debit + queue a run).
   * The transaction holds the pool's only connection, so the statements run
   * on it directly, between the caller's own queries.
   */
  private async applyIn(
    trx: TransactionClientContract,
    change: BalanceChange
  ): Promise<BalanceChangeResult> {
    const conn = await (trx.knexClient as any).client.acquireConnection()
    return this.applySync(conn, change)
  }

  async balanceOf(userId: string) {
    const row = await db.from('users').select('balance').where('id', userId).first()
    if (!row) throw new UnknownUserError(userId)
    return row.balance as number
  }

  /** Invariant check: balance = sum of applied diffs, for one user or all. */
  async findInvariantViolations() {
    return db.rawQuery(
      `SELECT u.id, u.balance, COALESCE(SUM(l.diff), 0) AS ledger_sum
         FROM users u LEFT JOIN ledger_entries l ON l.user_id = u.id AND l.status = 'applied'
        GROUP BY u.id HAVING u.balance <> COALESCE(SUM(l.diff), 0) OR u.balance < 0`
    )
  }
}

export default new WalletService()
