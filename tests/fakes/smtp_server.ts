import { SMTPServer } from 'smtp-server'
import { simpleParser, type ParsedMail } from 'mailparser'

/**
 * A real SMTP server on 127.0.0.1 that accepts every message (after AUTH
 * LOGIN/PLAIN with the given credentials) and keeps it parsed in memory.
 */
export async function startFakeSmtp(options: { port: number; username: string; password: string }) {
  const received: ParsedMail[] = []
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
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          received.push(parsed)
          callback()
        })
        .catch(callback)
    },
    logger: false,
  })
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve))
  return {
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
