import type { HttpContext } from '@adonisjs/core/http'

/* After answering before the body is in, the client may keep sending this long. */
const LINGER_MS = 2000

/**
 * Answered before the request body was read to the end (refused, too
 * large or aborted): the rest is read and discarded, and if the client
 * keeps sending, the connection is closed shortly after the answer, so an
 * oversize or unwanted body is cut off early.
 */
export function cutOffBody({ request, response }: HttpContext) {
  const req = request.request
  if (req.complete) return
  response.response.once('finish', () => {
    if (req.complete) return
    const timer = setTimeout(() => req.socket?.destroy(), LINGER_MS)
    timer.unref()
    req.once('end', () => clearTimeout(timer))
    req.resume()
  })
}
