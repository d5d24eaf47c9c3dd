import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import accountMailer from '#services/account_mailer'
import { queueMail } from '#services/mail_outbox'
import { startFakeSmtp, type FakeSmtpOptions } from '#tests/fakes/smtp_server'
import { freshState, travel } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { deliverMails } from '#tests/helpers/mailbox'
import User from '#models/user'

const smtpOptions = (extra: Partial<FakeSmtpOptions> = {}) => ({
  port: env.get('SMTP_PORT')!,
  username: env.get('SMTP_USERNAME')!,
  password: env.get('SMTP_PASSWORD')!,
  ...extra,
})

const outboxRow = (id?: number) =>
  id ? db.from('mail_outbox').where('id', id).firstOrFail() : db.from('mail_outbox').firstOrFail()

test.group('Mail outbox over a real SMTP server', (group) => {
  freshState(group)

  test('the activation mail arrives with both parts, a working APP_URL link and the outbox id', async ({
    client,
    assert,
  }) => {
    const smtp = await startFakeSmtp(smtpOptions())
    try {
      const user = await createUser({ email: 'smtp@example.com', status: 'new' })
      assert.isTrue(await accountMailer.queueActivation(user))
      assert.lengthOf(smtp.received, 0, 'queued, not sent by the caller')

      const delivered = await deliverMails({ mailer: 'smtp' })
      assert.include(delivered, { claimed: 1, sent: 1 })
      assert.lengthOf(smtp.received, 1)
      const mail = smtp.received[0]
      assert.equal(mail.subject, 'Activate your vgen account')
      assert.equal((mail.to as { text: string }).text, 'smtp@example.com')
      assert.include(mail.from!.text, 'no-reply@vgen.com')
      assert.isString(mail.text)
      assert.isString(mail.html)

      const row = await outboxRow()
      assert.equal(row.status, 'sent')
      assert.isNotNull(row.sent_at)
      assert.equal(row.attempts, 1)
      assert.equal(mail.messageId, row.message_id)
      assert.match(row.message_id, /^<outbox-\d+@/)
      assert.notInclude(row.payload, '/activate/', 'no link token is stored in the outbox')

      const link = mail.text!.match(/https?:\/\/\S+/)![0]
      assert.isTrue(link.startsWith(`${env.get('APP_URL')}/activate/`))
      assert.include(mail.html as string, link)

      const response = await client.get(new URL(link).pathname).redirects(0)
      response.assertStatus(302)
      assert.equal((await User.findOrFail(user.id)).status, 'activated')

      /* Sent once: the next run finds nothing due. */
      assert.include(await deliverMails({ mailer: 'smtp' }), { claimed: 0 })
      assert.lengthOf(smtp.received, 1)
    } finally {
      await smtp.close()
    }
  })

  test('an unreachable SMTP server: the mail waits and goes out later, with backoff', async ({
    assert,
  }) => {
    const user = await createUser({ email: 'down@example.com', status: 'new' })
    await accountMailer.queueActivation(user)

    assert.include(await deliverMails({ mailer: 'smtp' }), { claimed: 1, retrying: 1 })
    let row = await outboxRow()
    assert.equal(row.status, 'pending')
    assert.equal(row.attempts, 1)
    assert.isNotNull(row.last_error)
    /* Not due again at once: the next attempt is 30 s later, then 60 s, ... */
    assert.include(await deliverMails({ mailer: 'smtp' }), { claimed: 0 })

    const smtp = await startFakeSmtp(smtpOptions())
    try {
      travel(31_000)
      assert.include(await deliverMails({ mailer: 'smtp' }), { claimed: 1, sent: 1 })
      assert.lengthOf(smtp.received, 1)
      row = await outboxRow()
      assert.equal(row.status, 'sent')
      assert.equal(row.attempts, 2)
    } finally {
      await smtp.close()
    }
  })

  test('a permanent refusal (550) or too many attempts: dead, not retried forever', async ({
    assert,
  }) => {
    const smtp = await startFakeSmtp(
      smtpOptions({ rejectRecipient: (address) => address.startsWith('nobody') })
    )
    try {
      const refused = await createUser({ email: 'nobody@example.com', status: 'new' })
      await accountMailer.queueActivation(refused)
      assert.include(await deliverMails({ mailer: 'smtp' }), { claimed: 1, dead: 1 })
      const row = await outboxRow()
      assert.equal(row.status, 'dead')
      assert.include(row.last_error, '550')
    } finally {
      await smtp.close()
    }

    const user = await createUser({ email: 'flaky@example.com', status: 'new' })
    await accountMailer.queueActivation(user)
    const id = (await db.from('mail_outbox').where('to_address', user.email).firstOrFail()).id
    assert.include(await deliverMails({ mailer: 'smtp', maxAttempts: 1 }), { dead: 1 })
    assert.equal((await outboxRow(id)).status, 'dead')
  })

  test('a slow SMTP server gets several mails at once, each exactly once', async ({ assert }) => {
    const smtp = await startFakeSmtp(smtpOptions({ delayMs: 400 }))
    try {
      const addresses = Array.from({ length: 8 }, (_, index) => `slow${index}@example.com`)
      for (const to of addresses) {
        await queueMail({ kind: 'existing_account', to, dedupeKey: `test:slow:${to}` })
      }
      assert.include(await deliverMails({ mailer: 'smtp' }), { claimed: 8, sent: 8 })
      assert.sameMembers(
        smtp.received.map((mail) => (mail.to as { text: string }).text),
        addresses
      )
      assert.isAbove(smtp.load.max, 1, 'sends overlap')
      assert.isAtMost(smtp.load.max, 4)
    } finally {
      await smtp.close()
    }
  })

  test('a dedupe key sends once, even after the first was delivered', async ({ assert }) => {
    const user = await createUser({ email: 'once@example.com', status: 'new' })
    const mail = { kind: 'activation', to: user.email, userId: user.id, dedupeKey: 'test:once' }
    assert.isTrue(await queueMail(mail))
    assert.isFalse(await queueMail(mail))
    assert.include(await deliverMails(), { sent: 1 })
    assert.isFalse(await queueMail(mail))
    assert.include(await deliverMails(), { claimed: 0 })
  })

  test('a mail that has nothing to say any more is skipped (account activated meanwhile)', async ({
    assert,
  }) => {
    const user = await createUser({ email: 'late@example.com', status: 'new' })
    await accountMailer.queueActivation(user)
    await accountMailer.queueResetRequest('stranger@example.com')
    user.status = 'activated'
    await user.save()
    assert.include(await deliverMails(), { claimed: 2, skipped: 2, sent: 0 })
  })
})
