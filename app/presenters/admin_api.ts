import type { HttpContext } from '@adonisjs/core/http'
import {
  AdminInputError,
  AdminUnknownUserError,
  IdempotencyConflictError,
} from '#services/admin_service'

/**
 * The request body as a JSON object, read from the raw text so values are
 * exactly what was sent (the bodyparser trims strings). Anything but
 * `application/json` carrying an object is an AdminInputError.
 */
export function jsonBody(request: HttpContext['request']): Record<string, unknown> {
  if (!request.is(['json'])) {
    throw new AdminInputError('body', 'Send the body as JSON with Content-Type: application/json')
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(request.raw() ?? '')
  } catch {
    throw new AdminInputError('body', 'The body is not valid JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AdminInputError('body', 'The body must be a JSON object')
  }
  return parsed as Record<string, unknown>
}

/** The SPEC §4 error shape for the errors operators can cause; anything else is rethrown. */
export function adminErrorResponse(error: unknown, response: HttpContext['response']) {
  if (error instanceof AdminInputError) {
    return response.status(400).json({ error: { code: 'invalid_body', message: error.message } })
  }
  if (error instanceof AdminUnknownUserError) {
    return response
      .status(404)
      .json({ error: { code: 'unknown_user', message: 'No user with this userID' } })
  }
  if (error instanceof IdempotencyConflictError) {
    return response
      .status(409)
      .json({ error: { code: 'idempotency_key_reused', message: error.message } })
  }
  throw error
}
