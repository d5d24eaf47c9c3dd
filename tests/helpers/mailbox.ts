import { setTimeout as sleep } from 'node:timers/promises'
import { latestMailTo, listMails } from '#services/dev_mailbox'
import { MailOutboxJob, type MailOutboxOptions } from '#jobs/mail_outbox_job'

/**
 * Runs the mail outbox job like the worker would, until nothing is due:
 * requests only queue mails. The mailbox helpers below call it first, so a
 * test reads the mails its requests asked for. Returns what was delivered.
 */
export async function deliverMails(options: Partial<MailOutboxOptions> = {}) {
  const job = new MailOutboxJob(options)
  const totals = { claimed: 0, sent: 0, skipped: 0, retrying: 0, dead: 0 }
  for (let round = 0; round < 50; round++) {
    const result = await job.deliverDue()
    for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += result[key]
    if (result.claimed === 0) break
  }
  return totals
}

function linkIn(text: string, pathPrefix: string) {
  const links = text.match(/https?:\/\/\S+/g) ?? []
  return links.find((candidate) => new URL(candidate).pathname.startsWith(pathPrefix))
}

/** The first link in the latest mail to `address` whose path starts with `pathPrefix`. */
export async function linkFromLatestMail(address: string, pathPrefix: string) {
  await deliverMails()
  const mail = await latestMailTo(address)
  if (!mail) throw new Error(`No mail to ${address}`)
  const link = linkIn(mail.text, pathPrefix)
  if (!link) throw new Error(`No ${pathPrefix} link in mail "${mail.subject}"`)
  return link
}

/**
 * Same, for mails a worker process delivers (a server started by the test
 * with its own database): waits for a mail with such a link, newer than `after`.
 */
export async function waitForMailLink(
  address: string,
  pathPrefix: string,
  options: { after?: string; timeoutMs?: number } = {}
) {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  while (Date.now() < deadline) {
    const mail = await latestMailTo(address)
    const link = mail && linkIn(mail.text, pathPrefix)
    if (link && link !== options.after) return link
    await sleep(100)
  }
  throw new Error(`No ${pathPrefix} mail to ${address}`)
}

export async function mailsTo(address: string) {
  await deliverMails()
  return (await listMails(500)).filter((mail) => mail.to.includes(address))
}

/** Path + query of a link, for the api client. */
export function pathOf(link: string) {
  const url = new URL(link)
  return url.pathname + url.search
}
