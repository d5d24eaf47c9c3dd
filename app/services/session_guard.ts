import { randomBytes } from 'node:crypto'
import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type { Session } from '@adonisjs/session'
import type User from '#models/user'
import { sqlTime } from '#helpers/sql_time'

/* What our sessions carry besides the auth guard's user id. */
export const SESSION_KEYS = {
  /** users.session_version at login: a password change or a block bumps it. */
  version: 'sv',
  /** Random id of this login, what a logout revokes. */
  id: 'sid',
  /** Last request (ms since epoch, minute resolution): idle sessions end. */
  seenAt: 'seen',
} as const

/* Same as the cookie's max age (config/session.ts): a session idle this long is over. */
export const IDLE_LIMIT_MS = 7 * 24 * 3600 * 1000
/* `seen` is rewritten at most once a minute (it lives in the cookie, never in the database). */
const SEEN_RESOLUTION_MS = 60_000

export type SessionProblem = 'blocked' | 'ended'

/**
 * Sessions are stored in the encrypted cookie: nothing on the server knows
 * them, so ending one means remembering that it ended. Each login gets a
 * random session id; logout writes it to `revoked_sessions` (a POST), and
 * every request checks that table (a read). "Log out other devices" bumps
 * the user's session version instead, which every other session carries.
 */
export class SessionGuard {
  /** Call right after `auth.login()`, on the regenerated session. */
  start(session: Session, user: User) {
    session.put(SESSION_KEYS.version, user.sessionVersion)
    session.put(SESSION_KEYS.id, randomBytes(18).toString('base64url'))
    session.put(SESSION_KEYS.seenAt, DateTime.now().toMillis())
  }

  /** Why this signed-in session must end, or null. Read-only (runs on GETs). */
  async problem(session: Session, user: User): Promise<SessionProblem | null> {
    if (user.status === 'blocked') return 'blocked'
    if (user.status !== 'activated') return 'ended'
    if (session.get(SESSION_KEYS.version) !== user.sessionVersion) return 'ended'
    const sid = session.get(SESSION_KEYS.id)
    const seenAt = session.get(SESSION_KEYS.seenAt)
    /* Sessions from before session ids existed cannot be revoked: they end once. */
    if (typeof sid !== 'string' || typeof seenAt !== 'number') return 'ended'
    if (DateTime.now().toMillis() - seenAt > IDLE_LIMIT_MS) return 'ended'
    const revoked = await db.from('revoked_sessions').where('sid', sid).select('sid').first()
    return revoked ? 'ended' : null
  }

  /** Keeps an active session from going idle (a cookie write, not a database write). */
  touch(session: Session) {
    const now = DateTime.now().toMillis()
    if (now - Number(session.get(SESSION_KEYS.seenAt)) >= SEEN_RESOLUTION_MS) {
      session.put(SESSION_KEYS.seenAt, now)
    }
  }

  /**
   * Logout: this session id stops working everywhere, also in copies of the
   * cookie. The row is kept until any copy would have gone idle anyway.
   */
  async revoke(session: Session, user: User) {
    const sid = session.get(SESSION_KEYS.id)
    const now = DateTime.utc()
    if (typeof sid === 'string') {
      await db
        .table('revoked_sessions')
        .insert({
          sid,
          user_id: user.id,
          revoked_at: sqlTime(now),
          /* A day of margin over the idle limit: a request racing the logout may touch `seen`. */
          expires_at: sqlTime(now.plus({ milliseconds: IDLE_LIMIT_MS }).plus({ days: 1 })),
        })
        .onConflict('sid')
        .ignore()
    }
    await db.from('revoked_sessions').where('expires_at', '<', sqlTime(now)).delete()
  }

  /** Ends every other session of the user (and copies of this one); keeps this one. */
  async endOthers(session: Session, user: User) {
    await db
      .from('users')
      .where('id', user.id)
      .update({ session_version: db.raw('session_version + 1') })
    await user.refresh()
    this.start(session, user)
  }
}

export default new SessionGuard()
