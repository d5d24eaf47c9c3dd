import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { UnsupportedContentEncodingException } from '#exceptions/request_exceptions'

/**
 * Runs before the bodyparser: a body with any Content-Encoding but
 * identity is refused with a 415 (and `Accept-Encoding: identity`, as
 * RFC 7694 suggests) before a byte of it is read.
 */
export default class BodyEncodingMiddleware {
  handle(ctx: HttpContext, next: NextFn) {
    const encoding = ctx.request.header('content-encoding')?.trim().toLowerCase()
    if (encoding && encoding !== 'identity' && ctx.request.hasBody()) {
      ctx.response.header('Accept-Encoding', 'identity')
      throw new UnsupportedContentEncodingException()
    }
    return next()
  }
}
