import type { HttpContext } from '@adonisjs/core/http'
import { findMail, listMails } from '#services/dev_mailbox'

/** Development only (see DevOnlyMiddleware): mails kept by the dev mailer. */
export default class DevMailboxController {
  async index({ view }: HttpContext) {
    return view.render('pages/dev/mailbox', { title: 'Dev mailbox', mails: await listMails() })
  }

  async show({ view, params, response }: HttpContext) {
    const mail = await findMail(params.id)
    if (!mail) return response.notFound('No such mail')
    return view.render('pages/dev/mail', { title: mail.subject, mail })
  }
}
