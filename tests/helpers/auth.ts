import type { ApiRequest } from '@japa/api-client'
import type { BrowserContext } from 'playwright'
import type User from '#models/user'
import { SESSION_VERSION_KEY } from '#middleware/silent_auth_middleware'

/**
 * Signs a user in for an api-client request. Besides the user id, our
 * sessions carry the user's session version (see SilentAuthMiddleware).
 */
export function signedIn(request: ApiRequest, user: User) {
  return request.loginAs(user).withSession({ [SESSION_VERSION_KEY]: user.sessionVersion })
}

/** Same for a browser context. */
export async function signInBrowser(context: BrowserContext, user: User) {
  await (context as any).loginAs(user)
  await (context as any).setSession({ [SESSION_VERSION_KEY]: user.sessionVersion })
}
