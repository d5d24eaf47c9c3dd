import type { HttpContext } from '@adonisjs/core/http'
import { DevGateway } from '#integrations/payments/dev'
import billingService from '#services/billing_service'
import { formatPrice } from '#presenters/billing'

/** Same-app path of an absolute return URL (the dev checkout runs inside the app). */
function localPath(url: string) {
  const parsed = new URL(url, 'http://local')
  return parsed.pathname + parsed.search
}

/**
 * The dev gateway's checkout page (development and test only). Pay / Fail
 * record the outcome on the dev "provider" side, then deliver the postback
 * to the same handler apay's postbacks go through (verify → credit), and
 * send the customer back like a provider would.
 */
export default class DevCheckoutController {
  async show({ params, view, response }: HttpContext) {
    const payment = await new DevGateway().find(String(params.id))
    if (!payment) {
      response.status(404)
      return view.render('pages/errors/not_found', { title: 'Page not found' })
    }
    return view.render('pages/dev/checkout', {
      title: 'Dev checkout',
      payment,
      amountText: formatPrice(payment.amountCents, payment.currency),
    })
  }

  async update({ params, request, response }: HttpContext) {
    const gateway = new DevGateway()
    const outcome = request.input('outcome') === 'paid' ? 'paid' : 'failed'
    const payment = await gateway.decide(String(params.id), outcome)
    if (!payment)
      return response.notFound({ error: { code: 'unknown_payment', message: 'No such payment' } })

    const postbackUrl = new URL(payment.postbackUrl)
    await billingService.handlePostback('dev', postbackUrl.searchParams.get('order'), {
      paymentId: payment.id,
      status: payment.status,
    })
    const back = payment.status === 'paid' ? payment.successUrl : payment.failureUrl
    const separator = back.includes('?') ? '&' : '?'
    return response.redirect(
      `${localPath(back)}${separator}paymentId=${encodeURIComponent(payment.id)}`
    )
  }
}
