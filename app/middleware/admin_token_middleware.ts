import { createHash, timingSafeEqual } from 'node:crypto'
import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import env from '#start/env'

/* Shorter tokens are guessable; the API stays closed instead. */
export const ADMIN_TOKEN_MIN_LENGTH = 32

/** Compares in constant time, whatever the lengths (both sides are hashed first). */
export function sameSecret(presented: string, expected: string) {
  const a = createHash('sha256').update(presented).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

/**
 * Guards the internal admin API with ADMIN_TOKEN, sent as `Authorization:
 * Bearer <token>` or as the bare token. Without a configured token of at
 * least 32 chars the API is disabled, never open.
 */
export default class AdminTokenMiddleware {
  async handle({ request, response }: HttpContext, next: NextFn) {
    const expected = env.get('ADMIN_TOKEN') ?? ''
    if (expected.length < ADMIN_TOKEN_MIN_LENGTH) {
      return response.status(503).json({
        error: {
          code: 'admin_api_disabled',
          message: 'The internal API is disabled: ADMIN_TOKEN is not configured',
        },
      })
    }
    const header = (request.header('authorization') ?? '').trim()
    const presented = /^bearer\s+/i.test(header) ? header.replace(/^bearer\s+/i, '') : header
    if (!presented || !sameSecret(presented, expected)) {
      response.header('WWW-Authenticate', 'Bearer')
      return response.status(401).json({
        error: { code: 'unauthorized', message: 'Missing or wrong admin token' },
      })
    }
    return next()
  }
}
