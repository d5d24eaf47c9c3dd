import { SMTPServer } from 'smtp-server'
import { simpleParser, type ParsedMail } from 'mailparser'

export type FakeSmtpOptions = {
  port: number
  username: string
  password: string
  /** Time the server takes before it answers the end of a message (a slow relay). */
  delayMs?: number
  /** Recipients refused with a permanent `550` (like an unknown mailbox). */
  rejectRecipient?: (address: string) => boolean
}

/**
 * A real SMTP server on 127.0.0.1 that accepts every message (after AUTH
 * LOGIN/PLAIN with the given credentials) and keeps it parsed in memory,
 * with the time its end of data arrived (`receivedAt`, ms since epoch).
 */
export async function startFakeSmtp(options: FakeSmtpOptions) {
  const received: ParsedMail[] = []
  const receivedAt: number[] = []
  /* Messages whose data is being received or answered right now, and the most seen at once. */
  const load = { current: 0, max: 0 }
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, callback) {
      if (auth.username === options.username && auth.password === options.password) {
        return callback(null, { user: auth.username })
      }
      return callback(new Error('Invalid username or password'))
    },
    onRcptTo(address, _session, callback) {
      if (options.rejectRecipient?.(address.address)) {
        return callback(Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 }))
      }
      callback()
    },
    onData(stream, _session, callback) {
      load.current += 1
      load.max = Math.max(load.max, load.current)
      const done = (error?: Error) => {
        load.current -= 1
        callback(error)
      }
      simpleParser(stream)
        .then((parsed) => {
          received.push(parsed)
          receivedAt.push(Date.now())
          setTimeout(() => done(), options.delayMs ?? 0)
        })
        .catch(done)
    },
    logger: false,
  })
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve))
  return {
    received,
    receivedAt,
    load,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
