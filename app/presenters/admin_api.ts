import type { HttpContext } from '@adonisjs/core/http'
import type User from '#models/user'
import { InvalidBodyException } from '#exceptions/admin_exceptions'

/**
 * The request body as a JSON object, read from the raw text so values are
 * exactly what was sent (the bodyparser trims strings). Anything but
 * `application/json` carrying an object is a 400 `invalid_body`.
 */
export function jsonBody(request: HttpContext['request']): Record<string, unknown> {
  if (!request.is(['json'])) {
    throw new InvalidBodyException('Send the body as JSON with Content-Type: application/json')
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(request.raw() ?? '')
  } catch {
    throw new InvalidBodyException('The body is not valid JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidBodyException('The body must be a JSON object')
  }
  return parsed as Record<string, unknown>
}

/** `GET /api/internal/user`: what an operator needs to find a user and act on them. */
export function adminUserView(user: User) {
  return {
    userID: user.id,
    email: user.email,
    status: user.status,
    balance: user.balance,
    createdAt: user.createdAt.toUTC().toISO(),
  }
}
