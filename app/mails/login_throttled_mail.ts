import { BaseMail } from '@adonisjs/mail'

/**
 * To the owner of an account whose logins from new devices were paused
 * after many wrong passwords (see LoginThrottle). No secret link: only the
 * way to the "forgot password" page.
 */
export default class LoginThrottledMail extends BaseMail {
  subject = 'Failed logins to your vgen account'

  constructor(
    private to: string,
    private failures: number,
    private resetLink: string
  ) {
    super()
  }

  prepare() {
    const data = { email: this.to, failures: this.failures, link: this.resetLink }
    this.message
      .to(this.to)
      .htmlView('emails/login_throttled_html', data)
      .textView('emails/login_throttled_text', data)
  }
}
