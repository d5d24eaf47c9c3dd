import { test } from '@japa/runner'
import env from '#start/env'
import { AccountMailer } from '#services/account_mailer'
import { startFakeSmtp } from '#tests/fakes/smtp_server'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import User from '#models/user'

test.group('SMTP mailer (against a real SMTP server)', (group) => {
  freshState(group)

  test('the activation mail arrives with both parts and a working APP_URL link', async ({
    client,
    assert,
  }) => {
    const smtp = await startFakeSmtp({
      port: env.get('SMTP_PORT')!,
      username: env.get('SMTP_USERNAME')!,
      password: env.get('SMTP_PASSWORD')!,
    })
    try {
      const user = await createUser({ email: 'smtp@example.com', status: 'new' })
      assert.isTrue(await new AccountMailer('smtp').sendActivation(user))

      assert.lengthOf(smtp.received, 1)
      const mail = smtp.received[0]
      assert.equal(mail.subject, 'Activate your vgen account')
      assert.equal((mail.to as { text: string }).text, 'smtp@example.com')
      assert.include(mail.from!.text, 'no-reply@vgen.com')
      assert.isString(mail.text)
      assert.isString(mail.html)

      const link = mail.text!.match(/https?:\/\/\S+/)![0]
      assert.isTrue(link.startsWith(`${env.get('APP_URL')}/activate/`))
      assert.include(mail.html as string, link)

      const url = new URL(link)
      const response = await client.get(url.pathname).redirects(0)
      response.assertStatus(302)
      await user.refresh()
      assert.equal((await User.findOrFail(user.id)).status, 'activated')
    } finally {
      await smtp.close()
    }
  })

  test('an unreachable SMTP server fails the send without throwing at the user', async ({
    assert,
  }) => {
    const user = await createUser({ email: 'down@example.com', status: 'new' })
    assert.isFalse(await new AccountMailer('smtp').sendActivation(user))
  })
})
