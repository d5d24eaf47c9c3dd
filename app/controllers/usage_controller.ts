import type { HttpContext } from '@adonisjs/core/http'
import LedgerEntry from '#models/ledger_entry'
import { LEDGER_LIST_COLUMNS, ledgerRow, type LedgerListRow } from '#presenters/billing'
import { pageNumber } from '#validators/pagination'

const ROWS_PER_PAGE = 25

export default class UsageController {
  /** The user's own balance changes, newest first (refused attempts changed nothing and are not listed). */
  async index({ view, auth, request }: HttpContext) {
    const user = auth.getUserOrFail()
    /* Plain rows: a model per row was most of this page's time (docs/benchmarks.md). */
    const entries = await LedgerEntry.query()
      .select(LEDGER_LIST_COLUMNS)
      .withScopes((scopes) => scopes.ownedBy(user))
      .where('status', 'applied')
      .orderBy('id', 'desc')
      .pojo<LedgerListRow>()
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
