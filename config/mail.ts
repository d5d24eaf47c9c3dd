import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig, transports } from '@adonisjs/mail'
import { DevMailboxTransport } from '#integrations/mail/dev_mailbox_transport'

/* Parses `vgen <no-reply@vgen.com>` or a bare address. */
function parseFrom(value: string) {
  const match = value.match(/^\s*(.*?)\s*<([^>]+)>\s*$/)
  return match ? { name: match[1], address: match[2] } : { address: value.trim(), name: 'vgen' }
}

export const mailboxPath = app.makePath(
  env.get('MAILBOX_PATH') || (app.inTest ? 'tmp/mailbox-test' : 'tmp/mailbox')
)

const mailConfig = defineConfig({
  default: env.get('MAIL_MAILER') ?? (app.inProduction ? 'smtp' : 'dev'),
  from: parseFrom(env.get('MAIL_FROM') ?? 'vgen <no-reply@vgen.com>'),
  mailers: {
    smtp: transports.smtp({
      host: env.get('SMTP_HOST') ?? 'localhost',
      port: env.get('SMTP_PORT') ?? 587,
      secure: env.get('SMTP_SECURE') ?? false,
      ...(env.get('SMTP_USERNAME')
        ? {
            auth: {
              type: 'login' as const,
              user: env.get('SMTP_USERNAME')!,
              pass: env.get('SMTP_PASSWORD') ?? '',
            },
          }
        : {}),
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    }),
    dev: () => new DevMailboxTransport(mailboxPath),
  },
})

export default mailConfig

declare module '@adonisjs/mail/types' {
  export interface MailersList extends InferMailers<typeof mailConfig> {}
}
