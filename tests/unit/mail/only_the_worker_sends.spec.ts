import { test } from '@japa/runner'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import app from '@adonisjs/core/services/app'

/*
 * "Every mail is sent from the durable worker": a request that talks to the
 * mail server answers later for a known address than for an unknown one.
 * Only the outbox job may import the mailer; everything else queues.
 */
const SENDER = 'app/jobs/mail_outbox_job.ts'
const MAILER_USE = /@adonisjs\/mail\/services\/main|\bmail\.(send|sendLater|use)\(/

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) return sources(path)
      return entry.name.endsWith('.ts') ? [path] : []
    })
  )
  return nested.flat()
}

test.group('Mail is sent only by the outbox job', () => {
  test('no module but the outbox job uses the mailer', async ({ assert }) => {
    const offenders: string[] = []
    for (const folder of ['app', 'commands', 'start']) {
      for (const file of await sources(app.makePath(folder))) {
        const path = relative(app.makePath(), file)
        if (path !== SENDER && MAILER_USE.test(await readFile(file, 'utf8'))) offenders.push(path)
      }
    }
    assert.deepEqual(offenders, [], 'queue mails with queueMail (#services/mail_outbox) instead')
    assert.match(await readFile(app.makePath(SENDER), 'utf8'), MAILER_USE)
  })
})
