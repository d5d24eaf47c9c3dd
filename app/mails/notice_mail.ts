import { BaseMail } from '@adonisjs/mail'

export type Notice = {
  to: string
  subject: string
  /** The preview line mail clients show after the subject. */
  preheader?: string
  heading: string
  paragraphs: string[]
  /** Label/value rows (a receipt's lines). */
  details?: { label: string; value: string }[]
  /** The one clear action of the mail. */
  button?: { href: string; text: string }
  /** Small print under the button. */
  notes?: string[]
  /** Why the customer gets this mail (and how to stop it, for optional ones). */
  footer: string
}

/**
 * The product's mails (run finished, receipt, low balance, password
 * changed, account deleted): one layout with the brand, one button, an
 * HTML and a plain-text part, from resources/views/emails/notice_*.edge.
 * Every value is escaped in the HTML part.
 */
export default class NoticeMail extends BaseMail {
  constructor(private notice: Notice) {
    super()
    this.subject = notice.subject
  }

  prepare() {
    const data = {
      email: this.notice.to,
      details: [],
      notes: [],
      button: null,
      preheader: null,
      ...this.notice,
    }
    this.message
      .to(this.notice.to)
      .htmlView('emails/notice_html', data)
      .textView('emails/notice_text', data)
  }
}
