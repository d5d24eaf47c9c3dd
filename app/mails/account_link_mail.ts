import { BaseMail } from '@adonisjs/mail'
import env from '#start/env'

type LinkKind = 'activation' | 'reset' | 'existing_account'

const SUBJECTS: Record<LinkKind, string> = {
  activation: 'Activate your vgen account',
  reset: 'Reset your vgen password',
  existing_account: 'You already have a vgen account',
}

/** Builds absolute links from APP_URL, never from the request's Host header. */
export function appLink(path: string) {
  return new URL(path, env.get('APP_URL')).toString()
}

/**
 * The account mails: each carries one link, with an HTML and a plain-text
 * part rendered from resources/views/emails/<kind>.{html,text}.edge.
 */
export default class AccountLinkMail extends BaseMail {
  constructor(
    private to: string,
    private kind: LinkKind,
    private link: string
  ) {
    super()
    this.subject = SUBJECTS[kind]
  }

  prepare() {
    const data = { link: this.link, email: this.to, kind: this.kind }
    this.message
      .to(this.to)
      .htmlView(`emails/${this.kind}_html`, data)
      .textView(`emails/${this.kind}_text`, data)
  }
}
