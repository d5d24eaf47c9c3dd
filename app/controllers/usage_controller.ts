import type { HttpContext } from '@adonisjs/core/http'

export default class UsageController {
  async index({ view }: HttpContext) {
    return view.render('pages/usage/index', { title: 'Usage', active: 'usage' })
  }
}
