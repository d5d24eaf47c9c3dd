import { latestMailTo, listMails } from '#services/dev_mailbox'

/** The first link in the latest mail to `address` whose path starts with `pathPrefix`. */
export async function linkFromLatestMail(address: string, pathPrefix: string) {
  const mail = await latestMailTo(address)
  if (!mail) throw new Error(`No mail to ${address}`)
  const links = mail.text.match(/https?:\/\/\S+/g) ?? []
  const link = links.find((candidate) => new URL(candidate).pathname.startsWith(pathPrefix))
  if (!link) throw new Error(`No ${pathPrefix} link in mail "${mail.subject}"`)
  return link
}

export async function mailsTo(address: string) {
  return (await listMails(500)).filter((mail) => mail.to.includes(address))
}

/** Path + query of a link, for the api client. */
export function pathOf(link: string) {
  const url = new URL(link)
  return url.pathname + url.search
}
