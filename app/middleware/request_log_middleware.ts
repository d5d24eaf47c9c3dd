import type { HttpContext } from '@adonisjs/core/http'
import type { NextFn } from '@adonisjs/core/types/http'
import { inFlightRequests } from '#helpers/safety_net'

/**
 * One access-log line per request, written when the response is finished
 * (or the client went away), so the status is the one really sent, error
 * pages included. Logs the route pattern, never the URL: paths and query
 * strings can hold account-link tokens and email addresses.
 */
export default class RequestLogMiddleware {
  handle(ctx: HttpContext, next: NextFn) {
    const started = process.hrtime.bigint()
    const res = ctx.response.response
    let logged = false
    /* Listed in the fatal log line if the process crashes while this request is handled. */
    const requestId = ctx.request.id()
    if (requestId) inFlightRequests.add(requestId)
    const log = () => {
      if (logged) return
      logged = true
      if (requestId) inFlightRequests.delete(requestId)
      const route = ctx.route?.pattern ?? null
      /* Probes hit every few seconds: keep them out of the info-level log. */
      const level = route?.startsWith('/health') ? 'debug' : 'info'
      ctx.logger[level](
        {
          method: ctx.request.method(),
          route,
          status: res.statusCode,
          ms: Number((process.hrtime.bigint() - started) / 1_000_000n),
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request completed'
      )
    }
    res.once('finish', log)
    res.once('close', log)
    return next()
  }
}
