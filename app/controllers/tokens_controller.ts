import type { HttpContext } from '@adonisjs/core/http'

export default class TokensController {
  async index({ view }: HttpContext) {
    return view.render('pages/tokens/index', { title: 'Tokens', active: 'tokens' })
  }
}
