import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MailResponse } from '@adonisjs/mail'
import type { MailTransportContract, NodeMailerMessage } from '@adonisjs/mail/types'
import { uuidv7 } from '#helpers/ids'

export type StoredMail = {
  id: string
  to: string[]
  from: string
  subject: string
  html: string
  text: string
  sentAt: string
}

function addresses(value: unknown): string[] {
  if (!value) return []
  const list = Array.isArray(value) ? value : [value]
  return list.map((entry) =>
    typeof entry === 'string' ? entry : String((entry as { address: string }).address)
  )
}

/**
 * Development mailer: keeps every outgoing mail as a JSON file so that it can
 * be read at /dev/mailbox, with no SMTP server needed.
 */
export class DevMailboxTransport implements MailTransportContract {
  constructor(private directory: string) {}

  async send(message: NodeMailerMessage) {
    const id = uuidv7()
    const stored: StoredMail = {
      id,
      to: addresses(message.to),
      from: addresses(message.from)[0] ?? '',
      subject: String(message.subject ?? ''),
      html: String(message.html ?? ''),
      text: String(message.text ?? ''),
      sentAt: new Date().toISOString(),
    }
    await mkdir(this.directory, { recursive: true })
    /* Written under a temporary name, then renamed: a reader in another process never sees half a mail. */
    const path = join(this.directory, `${id}.json`)
    await writeFile(`${path}.partial`, JSON.stringify(stored))
    await rename(`${path}.partial`, path)
    const envelope = { from: stored.from, to: stored.to }
    return new MailResponse(id, envelope, stored)
  }
}
