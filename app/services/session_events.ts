import type { HttpContext } from '@adonisjs/core/http'
import db from '@adonisjs/lucid/services/db'
import type { TransactionClientContract } from '@adonisjs/lucid/types/database'
import type User from '#models/user'
import { recordEvent } from '#services/dwh/outbox'
import geoLocator from '#services/dwh/geo'

/**
 * Records a login or sign-up for analytics (`user_sessions`). The client IP
 * honours X-Forwarded-For only from TRUSTED_PROXIES (config/app.ts); geo is
 * looked up offline, so nothing here waits on the network. Pass the sign-up
 * transaction so the row exists only if the account does; a login gets its
 * own transaction.
 */
export async function recordSession(
  ctx: HttpContext,
  user: User,
  action: 'login' | 'signup',
  trx?: TransactionClientContract
) {
  const ip = ctx.request.ip()
  const geo = await geoLocator.locate(ip, ctx.request.headers())
  const row = {
    ip,
    geo,
    useragent: ctx.request.header('user-agent')?.slice(0, 1000) ?? null,
    action,
    userid: user.id,
    email: user.email,
  }
  if (trx) {
    await recordEvent(trx, 'user_sessions', row)
  } else {
    await db.transaction((own) => recordEvent(own, 'user_sessions', row))
  }
}
