import type { HttpContext } from '@adonisjs/core/http'
import PaymentOrder from '#models/payment_order'
import { orderView, packCards } from '#presenters/billing'
import { pageNumber } from '#validators/pagination'

const ORDERS_PER_PAGE = 10

export default class TokensController {
  /** The packs to buy and the user's own orders, newest first. */
  async index({ view, auth, request }: HttpContext) {
    const user = auth.getUserOrFail()
    const orders = await PaymentOrder.query()
      .withScopes((scopes) => scopes.ownedBy(user))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .paginate(await pageNumber(request.qs()), ORDERS_PER_PAGE)
    orders.baseUrl(request.url())
    return view.render('pages/tokens/index', {
      title: 'Tokens',
      active: 'tokens',
      packs: packCards(),
      orders: orders.all().map(orderView),
      pagination: orders.getMeta(),
    })
  }
}
