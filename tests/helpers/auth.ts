import { randomUUID } from 'node:crypto'
import type { ApiRequest } from '@japa/api-client'
import type { BrowserContext } from 'playwright'
import { DateTime } from 'luxon'
import type User from '#models/user'
import { SESSION_KEYS } from '#services/session_guard'

/**
 * The session a login gives (see SessionGuard): the user's session version,
 * a session id and the last-seen time. `overrides` builds stale or revoked
 * sessions.
 */
export function sessionOf(user: User, overrides: Record<string, unknown> = {}) {
  return {
    [SESSION_KEYS.version]: user.sessionVersion,
    [SESSION_KEYS.id]: randomUUID(),
    [SESSION_KEYS.seenAt]: DateTime.now().toMillis(),
    ...overrides,
  }
}

/** Signs a user in for an api-client request. */
export function signedIn(request: ApiRequest, user: User, overrides: Record<string, unknown> = {}) {
  return request.loginAs(user).withSession(sessionOf(user, overrides))
}

/** Same for a browser context. */
export async function signInBrowser(context: BrowserContext, user: User) {
  await (context as any).loginAs(user)
  await (context as any).setSession(sessionOf(user))
}
