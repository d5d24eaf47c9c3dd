import type { HttpContext } from '@adonisjs/core/http'
import limiter from '@adonisjs/limiter/services/main'
import PaymentOrder from '#models/payment_order'
import billingService from '#services/billing_service'
import { ReceiptNotFoundException } from '#exceptions/billing_exceptions'
import LedgerEntry from '#models/ledger_entry'
import { orderView, RECEIPT_NOTE, receiptLines } from '#presenters/billing'
import { packChoiceValidator } from '#validators/tokens'

/** A user's own order, else 404 (another user's order does not exist for them). */
async function ownOrder({ auth, params }: HttpContext) {
  const user = auth.getUserOrFail()
  return PaymentOrder.query()
    .withScopes((scopes) => scopes.ownedBy(user))
    .where('id', String(params.id))
    .firstOrFail()
}

/**
 * `?result=failed&paymentId=…` from a gateway's return. Some gateways append
 * `?paymentId=` to a URL that already has a query; accept that too.
 */
function returnParams(qs: Record<string, unknown>) {
  const raw = typeof qs.result === 'string' ? qs.result : ''
  const [result, appended] = raw.split('?', 2)
  let paymentId = typeof qs.paymentId === 'string' ? qs.paymentId : ''
  if (!paymentId && appended) paymentId = new URLSearchParams(appended).get('paymentId') ?? ''
  return { result, paymentId: paymentId.slice(0, 191) }
}

export default class OrdersController {
  /** Buy a pack: an order with a snapshot of the pack, then off to the gateway's checkout. */
  async store({ request, response, auth }: HttpContext) {
    const user = auth.getUserOrFail()
    await limiter.use({ requests: 30, duration: '1 hour' }).consume(`orders:${user.id}`)
    const { pack } = await request.validateUsing(packChoiceValidator)
    const { redirectUrl } = await billingService.createOrder(user, pack, { ip: request.ip() })
    return response.redirect(redirectUrl)
  }

  /** The "payment processing" page the customer returns to. Read-only: it never credits. */
  async show(ctx: HttpContext) {
    const order = await ownOrder(ctx)
    const { result, paymentId } = returnParams(ctx.request.qs())
    return ctx.view.render('pages/tokens/order', {
      title: 'Payment',
      active: 'tokens',
      order: orderView(order),
      balance: ctx.auth.user!.balance,
      returnedFailed: result === 'failed',
      paymentIdHint: paymentId,
    })
  }

  /** Small JSON the processing page polls. */
  async status(ctx: HttpContext) {
    const order = await ownOrder(ctx)
    return ctx.response.json({ ...orderView(order), balance: ctx.auth.user!.balance })
  }

  /**
   * The processing page asks us to check with the gateway now (faster than
   * waiting for the postback or the reconciler). Same verify → settle path.
   */
  async check(ctx: HttpContext) {
    const order = await billingService.checkFromReturnPage(
      await ownOrder(ctx),
      ctx.request.input('paymentId')
    )
    await ctx.auth.user!.refresh()
    return ctx.response.json({ ...orderView(order), balance: ctx.auth.user!.balance })
  }

  /**
   * The printable receipt of a paid order (owner only: another user's, or
   * an order that was never paid, is a 404). The balance after is the one
   * the credit's ledger row recorded.
   */
  async receipt(ctx: HttpContext) {
    const order = await ownOrder(ctx)
    if (order.status !== 'paid') throw new ReceiptNotFoundException()
    const credit = await LedgerEntry.query()
      .withScopes((scopes) => scopes.ownedBy(order.userId))
      .where('reference', order.creditReference)
      .where('status', 'applied')
      .first()
    return ctx.view.render('pages/tokens/receipt', {
      title: 'Receipt',
      active: 'tokens',
      order: orderView(order),
      receipt: receiptLines(order, credit?.newBalance ?? null),
      note: RECEIPT_NOTE,
      email: ctx.auth.user!.email,
    })
  }
}
