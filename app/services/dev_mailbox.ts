import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { mailboxPath } from '#config/mail'
import type { StoredMail } from '#integrations/mail/dev_mailbox_transport'

/** Reads the mails kept by the dev mailer, newest first. */
export async function listMails(limit = 50): Promise<StoredMail[]> {
  let names: string[]
  try {
    names = (await readdir(mailboxPath)).filter((name) => name.endsWith('.json'))
  } catch {
    return []
  }
  names.sort().reverse()
  const mails = await Promise.all(
    names
      .slice(0, limit)
      .map(async (name) => JSON.parse(await readFile(join(mailboxPath, name), 'utf8')))
  )
  return mails as StoredMail[]
}

export async function findMail(id: string): Promise<StoredMail | null> {
  if (!/^[0-9a-f-]{36}$/.test(id)) return null
  try {
    return JSON.parse(await readFile(join(mailboxPath, `${id}.json`), 'utf8'))
  } catch {
    return null
  }
}

/** Latest mail sent to an address (tests and the browser journey use it). */
export async function latestMailTo(address: string) {
  const mails = await listMails(500)
  return mails.find((mail) => mail.to.includes(address)) ?? null
}

export async function clearMailbox() {
  await rm(mailboxPath, { recursive: true, force: true })
}
