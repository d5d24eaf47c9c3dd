import { test } from '@japa/runner'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { generateKeyPairSync } from 'node:crypto'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import app from '@adonisjs/core/services/app'
import db from '@adonisjs/lucid/services/db'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { recordEvent } from '#services/dwh/outbox'
import walletService from '#services/wallet_service'
import { NdjsonMirror } from '#services/dwh/ndjson_mirror'
import { JWT, PassThroughClient } from 'google-auth-library'
import { BigQuerySink } from '#integrations/bigquery/sink'
import { cloneDatabase, freePort, spawnAce } from '#tests/helpers/app_process'
import { FakeBigQueryServer } from '#tests/fakes/bigquery_server'
import { DATASET, PROJECT, sinkFor } from '#tests/functional/dwh/helpers'

function bigQueryEnv(fake: FakeBigQueryServer) {
  return {
    BIGQUERY_PROJECT_ID: PROJECT,
    BIGQUERY_DATASET: DATASET,
    BIGQUERY_API_ENDPOINT: fake.url,
  }
}

async function ace(args: string[], databasePath: string, env: Record<string, string>) {
  const run = spawnAce(args, { port: await freePort(), databasePath, env })
  const { code } = await run.exited
  return { code, output: run.lines.join('\n') }
}

test.group('DWH commands', (group) => {
  freshState(group)
  let fake: FakeBigQueryServer
  group.each.setup(async () => {
    fake = await new FakeBigQueryServer().start()
    return () => fake.stop()
  })

  test('dwh:setup creates everything, is safe to re-run and reports a differing table', async ({
    assert,
  }) => {
    const databasePath = await cloneDatabase('dwh-setup')
    const first = await ace(['dwh:setup'], databasePath, bigQueryEnv(fake))
    assert.equal(first.code, 0, first.output)
    assert.include(first.output, `dataset ${PROJECT}.${DATASET}: created`)
    assert.include(first.output, 'table user_sessions: created')
    assert.include(first.output, 'table generation_launches: created')

    const second = await ace(['dwh:setup'], databasePath, bigQueryEnv(fake))
    assert.equal(second.code, 0, second.output)
    assert.include(second.output, `dataset ${PROJECT}.${DATASET}: exists`)
    assert.include(second.output, 'table token_balance_changes: ok')

    const metadata = fake.tableMetadata('user_sessions')
    metadata.schema.fields = metadata.schema.fields.filter(
      (field: any) => field.name !== 'useragent'
    )
    const third = await ace(['dwh:setup'], databasePath, bigQueryEnv(fake))
    assert.equal(third.code, 1)
    assert.include(third.output, 'table user_sessions: schema differs from ours')
    assert.include(third.output, 'column useragent is missing')
  }).timeout(60_000)

  test('dwh:setup without BigQuery config says what to set', async ({ assert }) => {
    const result = await ace(['dwh:setup'], await cloneDatabase('dwh-setup-none'), {})
    assert.equal(result.code, 1)
    assert.include(result.output, 'set BIGQUERY_PROJECT_ID')
  }).timeout(60_000)

  test('dwh:flush ships what is pending; --retry-dead replays dead rows', async ({ assert }) => {
    const user = await createUser({ balance: 500 })
    await walletService.change({
      userId: user.id,
      action: 'used',
      diff: -900,
      reference: 'used:run:1',
      description: 'Task run',
    })
    /* The oldest row (ids keep counting across tests: AUTOINCREMENT) goes dead. */
    const oldest = await db.from('outbox_events').orderBy('id').firstOrFail()
    await db
      .from('outbox_events')
      .where('id', oldest.id)
      .update({ status: 'dead', attempts: 20, last_error: 'x' })
    const databasePath = await cloneDatabase('dwh-flush')
    await sinkFor(fake).setup()

    const flush = await ace(['dwh:flush'], databasePath, bigQueryEnv(fake))
    assert.equal(flush.code, 0, flush.output)
    assert.include(flush.output, '1 rows sent')
    assert.include(flush.output, 'outbox now: 0 pending, 1 dead')
    assert.deepEqual(
      fake.rowsOf('token_balance_changes').map((row) => [row.action, row.status]),
      [['used', 'rejected']]
    )

    const replay = await ace(['dwh:flush', '--retry-dead'], databasePath, bigQueryEnv(fake))
    assert.equal(replay.code, 0, replay.output)
    assert.include(replay.output, '1 dead rows put back in line')
    assert.deepEqual(
      fake.rowsOf('token_balance_changes').map((row) => [row.action, row.status]),
      [
        ['used', 'rejected'],
        ['manual', 'applied'],
      ]
    )
    const child = new Database(databasePath, { readonly: true })
    const statuses = child.prepare('SELECT status FROM outbox_events ORDER BY id').all()
    child.close()
    assert.deepEqual(statuses, [{ status: 'sent' }, { status: 'sent' }])
  }).timeout(60_000)

  test('the worker process ships new rows on its own', async ({ assert }) => {
    await createUser({ balance: 250 })
    const databasePath = await cloneDatabase('dwh-worker')
    await sinkFor(fake).setup()
    const worker = spawnAce(['worker'], {
      port: await freePort(),
      databasePath,
      env: { ...bigQueryEnv(fake), WORKER_POLL_MS: '200' },
    })
    try {
      const deadline = Date.now() + 30_000
      while (fake.rowsOf('token_balance_changes').length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      assert.deepEqual(
        fake.rowsOf('token_balance_changes').map((row) => [row.action, row.diff, row.new_balance]),
        [['manual', 250, 250]],
        worker.lines.join('\n')
      )
    } finally {
      await worker.stop()
    }
    const child = new Database(databasePath, { readonly: true })
    const statuses = child.prepare('SELECT status FROM outbox_events').all()
    child.close()
    assert.deepEqual(statuses, [{ status: 'sent' }])
  }).timeout(60_000)

  test('dwh:flush with BigQuery down exits non-zero and keeps the rows', async ({ assert }) => {
    await createUser({ balance: 500 })
    const databasePath = await cloneDatabase('dwh-flush-down')
    await sinkFor(fake).setup()
    fake.mode = 'down'
    const flush = await ace(['dwh:flush'], databasePath, bigQueryEnv(fake))
    assert.equal(flush.code, 1)
    assert.include(flush.output, '0 rows sent, 1 to retry later')
    assert.include(flush.output, 'outbox now: 1 pending, 0 dead')
  }).timeout(60_000)
})

test.group('DWH: NDJSON mirror without BigQuery', (group) => {
  freshState(group)
  const root = app.makePath('tmp', 'dwh-mirror-test')
  group.each.setup(() => rm(root, { recursive: true, force: true }))

  test('pending rows are copied once to one file per table per day and stay pending', async ({
    assert,
  }) => {
    const user = await createUser({ balance: 100 })
    await recordEvent(db.connection(), 'generation_launches', {
      userid: user.id,
      email: user.email,
      taskid: 't1',
      task_properties: { model: 'basic' },
      timestamp: '2026-01-02T03:04:05.000Z',
    })
    const mirror = new NdjsonMirror(root)
    assert.equal(await mirror.mirrorBatch(), 2)
    assert.equal(await mirror.mirrorBatch(), 0)

    const today = new Date().toISOString().slice(0, 10)
    assert.deepEqual((await readdir(root)).sort(), ['generation_launches', 'token_balance_changes'])
    assert.deepEqual(await readdir(join(root, 'token_balance_changes')), [`${today}.ndjson`])
    const balanceLines = (
      await readFile(join(root, 'token_balance_changes', `${today}.ndjson`), 'utf8')
    )
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    assert.lengthOf(balanceLines, 1)
    assert.include(balanceLines[0], {
      userid: user.id,
      action: 'manual',
      diff: 100,
      new_balance: 100,
    })
    const launch = await readFile(join(root, 'generation_launches', '2026-01-02.ndjson'), 'utf8')
    assert.deepEqual(JSON.parse(launch), {
      timestamp: '2026-01-02T03:04:05.000Z',
      userid: user.id,
      email: user.email,
      taskid: 't1',
      task_properties: { model: 'basic' },
    })

    const statuses = await db.from('outbox_events').select('status')
    assert.deepEqual(statuses, [{ status: 'pending' }, { status: 'pending' }])
  })
})

test.group('DWH: BigQuery credentials', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const key = {
    type: 'service_account',
    project_id: PROJECT,
    private_key_id: 'test',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: `shipper@${PROJECT}.iam.gserviceaccount.com`,
    client_id: '1',
  }
  const base = { projectId: PROJECT, dataset: DATASET, location: 'US' }

  test('a key given inline or as a file reaches the client', async ({ assert }) => {
    const inline = new BigQuerySink({ ...base, credentialsJson: JSON.stringify(key) })
    assert.instanceOf(inline.auth, JWT)
    assert.equal((inline.auth as JWT).email, key.client_email)
    assert.deepEqual((inline.auth as JWT).scopes, ['https://www.googleapis.com/auth/bigquery'])

    const file = app.makePath('tmp', 'dwh-test-key.json')
    await writeFile(file, JSON.stringify(key))
    const fromFile = new BigQuerySink({ ...base, keyFilename: file })
    assert.equal((fromFile.auth as JWT).email, key.client_email)
    await rm(file)

    // An emulator endpoint without a key: no credentials at all (no metadata-server probing).
    assert.instanceOf(
      new BigQuerySink({ ...base, apiEndpoint: 'http://127.0.0.1:9' }).auth,
      PassThroughClient
    )
  })

  test('a broken key is reported clearly', ({ assert }) => {
    assert.throws(
      () => new BigQuerySink({ ...base, credentialsJson: '{not json' }),
      /BIGQUERY_CREDENTIALS_JSON is not valid JSON/
    )
    assert.throws(
      () =>
        new BigQuerySink({
          ...base,
          credentialsJson: JSON.stringify({ type: 'external_account' }),
        }),
      /BIGQUERY_CREDENTIALS_JSON is not a service-account key/
    )
    assert.throws(
      () => new BigQuerySink({ ...base, keyFilename: '/nonexistent/key.json' }),
      /GOOGLE_APPLICATION_CREDENTIALS: cannot read \/nonexistent\/key.json/
    )
  })
})
