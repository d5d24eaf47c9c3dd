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
    /* The links of the text part, clickable (the frame's own links open in a new tab). */
    const links = [...new Set(mail.text.match(/https?:\/\/[^\s<>"]+/g) ?? [])]
    return view.render('pages/dev/mail', { title: mail.subject, mail, links })
  }

  /**
   * The HTML part on its own, for the mail page's frame. Mails are made of
   * inline styles, which the app's CSP refuses (a frame from srcdoc would
   * inherit it and log a console error per style): this answer gets a CSP
   * of its own that allows inline styles and nothing that runs.
   */
  async html({ params, response }: HttpContext) {
    const mail = await findMail(params.id)
    if (!mail) return response.notFound('No such mail')
    response.header(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
    )
    response.header('X-Frame-Options', 'SAMEORIGIN')
    response.header('Content-Type', 'text/html; charset=utf-8')
    /* A sandboxed frame cannot navigate the app (it refuses to be framed): links open a tab. */
    const html = (mail.html ?? '').replace(/<head>/i, '<head><base target="_blank">')
    return response.send(html)
  }
}
