import type { HttpContext } from '@adonisjs/core/http'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type User from '#models/user'

/**
 * Records a login or sign-up for analytics. The analytics module replaces
 * the body with an outbox write (same transaction as the change).
 */
export async function recordSession(
  _ctx: HttpContext,
  _user: User,
  _action: 'login' | 'signup',
  _trx?: TransactionClientContract
) {}
