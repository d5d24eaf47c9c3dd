import type { HttpContext } from '@adonisjs/core/http'
import LedgerEntry from '#models/ledger_entry'
import { ledgerRow } from '#presenters/billing'
import { pageNumber } from '#validators/pagination'

const ROWS_PER_PAGE = 25

export default class UsageController {
  /** The user's own balance changes, newest first (refused attempts changed nothing and are not listed). */
  async index({ view, auth, request }: HttpContext) {
    const user = auth.getUserOrFail()
    const entries = await LedgerEntry.query()
      .withScopes((scopes) => scopes.ownedBy(user))
      .where('status', 'applied')
      .orderBy('id', 'desc')
      .paginate(await pageNumber(request.qs()), ROWS_PER_PAGE)
    entries.baseUrl(request.url())
    return view.render('pages/usage/index', {
      title: 'Usage',
      active: 'usage',
      rows: entries.all().map(ledgerRow),
      pagination: entries.getMeta(),
    })
  }
}
