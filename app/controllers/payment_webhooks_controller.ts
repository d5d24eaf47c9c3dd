import type { HttpContext } from '@adonisjs/core/http'
import limiter from '@adonisjs/limiter/services/main'
import billingService from '#services/billing_service'

/**
 * Postbacks from payment gateways (`POST /webhooks/payments/:gateway?order=<id>`).
 * The body is a hint only: BillingService verifies with the gateway before
 * crediting. Answers: 200 settled or already settled, 202 still pending,
 * 400 unreadable, 404 no such order, 503 gateway unreachable (retry later);
 * 200 `{"status": "ignored"}` for a postback of another apay environment.
 * The errors are exceptions rendered as `{"error": {"code", "message"}}`.
 */
export default class PaymentWebhooksController {
  async store({ request, response, params }: HttpContext) {
    /* Each postback costs a call to the gateway: cap what one address can trigger. */
    await limiter.use({ requests: 120, duration: '1 min' }).consume(`postback:${request.ip()}`)
    const outcome = await billingService.handlePostback(
      String(params.gateway),
      request.qs().order,
      request.body()
    )
    /* Not for us (another apay environment): 200 so it is not retried; logged by the service. */
    if (!outcome.order) return response.json({ status: 'ignored', result: outcome.reason })
    const { order, result } = outcome
    return response.status(order.isPending ? 202 : 200).json({ status: order.status, result })
  }
}
