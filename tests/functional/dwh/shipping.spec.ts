import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import { freshState, travel } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { recordEvent } from '#services/dwh/outbox'
import walletService from '#services/wallet_service'
import { FakeBigQueryServer } from '#tests/fakes/bigquery_server'
import { DATASET, readyFake, shipperFor, sinkFor } from '#tests/functional/dwh/helpers'

async function outbox() {
  return db.from('outbox_events').orderBy('id')
}

/** `count` top-ups of a new user: one outbox row each. */
async function someTopups(count: number) {
  const user = await createUser()
  for (let index = 0; index < count; index++) {
    await walletService.change({
      userId: user.id,
      action: 'topup',
      diff: 100 + index,
      reference: `topup:order:${index}`,
      description: 'Test top-up',
    })
  }
  return user
}

test.group('DWH shipping: setup', (group) => {
  freshState(group)

  test('setup creates the dataset and the three tables with the brief schema', async ({
    assert,
  }) => {
    const fake = await new FakeBigQueryServer().start()
    try {
      const report = await sinkFor(fake).setup()
      assert.deepEqual(report.dataset, { id: DATASET, status: 'created' })
      assert.deepEqual(
        report.tables.map((table) => [table.table, table.status]),
        [
          ['user_sessions', 'created'],
          ['token_balance_changes', 'created'],
          ['generation_launches', 'created'],
        ]
      )

      const sessions = fake.tableMetadata('user_sessions')
      const columns = (table: string) =>
        fake.tableMetadata(table).schema.fields.map((field: any) => `${field.name}:${field.type}`)
      assert.deepEqual(columns('user_sessions'), [
        'timestamp:TIMESTAMP',
        'ip:STRING',
        'geo:RECORD',
        'useragent:STRING',
        'action:STRING',
        'userid:STRING',
        'email:STRING',
      ])
      assert.deepEqual(
        sessions.schema.fields[2].fields.map((field: any) => `${field.name}:${field.type}`),
        ['country:STRING', 'region:STRING', 'city:STRING', 'latitude:FLOAT', 'longitude:FLOAT']
      )
      assert.deepEqual(columns('token_balance_changes'), [
        'timestamp:TIMESTAMP',
        'userid:STRING',
        'email:STRING',
        'action:STRING',
        'diff:INTEGER',
        'old_balance:INTEGER',
        'new_balance:INTEGER',
        'status:STRING',
        'reference:STRING',
      ])
      assert.deepEqual(columns('generation_launches'), [
        'timestamp:TIMESTAMP',
        'userid:STRING',
        'email:STRING',
        'taskid:STRING',
        'task_properties:JSON',
      ])
      for (const table of ['user_sessions', 'token_balance_changes', 'generation_launches']) {
        assert.deepEqual(fake.tableMetadata(table).timePartitioning, {
          type: 'DAY',
          field: 'timestamp',
        })
        assert.deepEqual(fake.tableMetadata(table).clustering, { fields: ['userid'] })
      }
      assert.equal(fake.datasets.get(`vgen-test/${DATASET}`)?.location, 'EU')
    } finally {
      await fake.stop()
    }
  })

  test('setup is safe to run again and reports a table whose schema differs', async ({
    assert,
  }) => {
    const fake = await new FakeBigQueryServer().start()
    try {
      await sinkFor(fake).setup()
      const again = await sinkFor(fake).setup()
      assert.equal(again.dataset.status, 'exists')
      assert.deepEqual(
        again.tables.map((table) => table.status),
        ['ok', 'ok', 'ok']
      )

      // Someone changed a table by hand.
      const metadata = fake.tableMetadata('token_balance_changes')
      metadata.schema.fields = metadata.schema.fields
        .filter((field: any) => field.name !== 'reference')
        .map((field: any) => (field.name === 'diff' ? { ...field, type: 'STRING' } : field))
      metadata.schema.fields.push({ name: 'note', type: 'STRING', mode: 'NULLABLE' })
      delete metadata.clustering

      const report = await sinkFor(fake).setup()
      const changed = report.tables.find((table) => table.table === 'token_balance_changes')!
      assert.equal(changed.status, 'differs')
      assert.deepEqual(changed.differences, [
        'column diff is STRING, expected INT64',
        'column reference is missing',
        'column note is not in our definition',
        'clustering is none, expected userid',
      ])
      assert.equal(report.tables.find((table) => table.table === 'user_sessions')!.status, 'ok')
    } finally {
      await fake.stop()
    }
  })
})

test.group('DWH shipping: delivery', (group) => {
  freshState(group)
  let fake: FakeBigQueryServer
  group.each.setup(async () => {
    fake = await readyFake()
    return () => fake.stop()
  })

  test('rows go in batches of at most 500 with the outbox insert_id as insertId', async ({
    assert,
  }) => {
    for (let index = 0; index < 1201; index++) {
      await recordEvent(db.connection(), 'generation_launches', {
        userid: 'u1',
        email: 'u1@example.com',
        taskid: `task-${index}`,
        task_properties: { run_id: index, model: 'basic' },
      })
    }
    const result = await shipperFor(sinkFor(fake)).flush()
    assert.equal(result.sent, 1201)

    const sizes = fake.insertAllCalls.map((call) => call.rows.length)
    assert.sameMembers(sizes, [500, 500, 201])
    const rows = await outbox()
    assert.isTrue(rows.every((row) => row.status === 'sent' && row.sent_at))
    const sent = fake.sentInsertIds('generation_launches')
    assert.lengthOf(sent, 1201)
    assert.sameMembers(
      sent,
      rows.map((row) => row.insert_id)
    )
    assert.lengthOf(fake.rowsOf('generation_launches'), 1201)
    // JSON columns travel as JSON text, as the streaming API wants.
    assert.deepEqual(JSON.parse(fake.rowsOf('generation_launches')[7].task_properties as string), {
      run_id: 7,
      model: 'basic',
    })
  })

  test('row values arrive byte for byte, even text that looks like a client placeholder', async ({
    assert,
  }) => {
    const row = {
      ip: '203.0.113.9',
      geo: { country: 'NL', city: 'Zoë’s "town" <b>' },
      useragent: 'Agent/{{projectId}} \u2028 ✓',
      action: 'login',
      userid: 'u-1',
      email: 'odd+tag@example.com',
    }
    await recordEvent(db.connection(), 'user_sessions', row)
    assert.equal((await shipperFor(sinkFor(fake)).flush()).sent, 1)
    const { timestamp, ...stored } = fake.rowsOf('user_sessions')[0]
    assert.deepEqual(stored, row)
    assert.match(String(timestamp), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
  })

  test('BigQuery down for a while: nothing is lost, every row arrives once when it is back', async ({
    assert,
  }) => {
    await someTopups(3)
    const shipper = shipperFor(sinkFor(fake))

    fake.mode = 'down'
    const first = await shipper.shipDue()
    assert.deepEqual(first, { claimed: 3, sent: 0, retrying: 3, dead: 0 })
    let rows = await outbox()
    assert.isTrue(rows.every((row) => row.status === 'pending' && row.attempts === 1))
    assert.match(rows[0].last_error, /unavailable/i)

    // Backing off: nothing is due yet.
    assert.equal((await shipper.shipDue()).claimed, 0)

    // Down differently: connections refused.
    fake.mode = 'up'
    await fake.refuseConnections()
    travel(15_000)
    assert.deepEqual(await shipper.shipDue(), { claimed: 3, sent: 0, retrying: 3, dead: 0 })
    rows = await outbox()
    assert.isTrue(rows.every((row) => row.attempts === 2))
    assert.match(rows[0].last_error, /ECONNREFUSED/)

    await fake.acceptConnections()
    travel(15_000 + 30_000)
    const back = await shipper.shipDue()
    assert.equal(back.sent, 3)
    assert.equal((await shipper.shipDue()).claimed, 0)

    const stored = fake.rowsOf('token_balance_changes')
    assert.deepEqual(
      stored.map((row) => [row.action, row.diff, row.status]),
      [
        ['topup', 100, 'applied'],
        ['topup', 101, 'applied'],
        ['topup', 102, 'applied'],
      ]
    )
    rows = await outbox()
    assert.isTrue(rows.every((row) => row.status === 'sent' && row.attempts === 3))
  })

  test('a partial failure retries only the rows that failed', async ({ assert }) => {
    await someTopups(4)
    const rows = await outbox()
    const failing = new Set([rows[1].insert_id, rows[3].insert_id])
    fake.failRows((row) => failing.has(row.insertId), { reason: 'backendError', times: 1 })

    const shipper = shipperFor(sinkFor(fake))
    const first = await shipper.shipDue()
    assert.deepEqual(first, { claimed: 4, sent: 2, retrying: 2, dead: 0 })
    const afterFirst = await outbox()
    assert.deepEqual(
      afterFirst.map((row) => row.status),
      ['sent', 'pending', 'sent', 'pending']
    )
    assert.match(afterFirst[1].last_error, /backendError/)

    travel(60_000)
    const second = await shipper.shipDue()
    assert.deepEqual(second, { claimed: 2, sent: 2, retrying: 0, dead: 0 })
    // The retry carried only the two failed rows.
    assert.deepEqual(
      fake.insertAllCalls[1].rows.map((row) => row.insertId),
      [rows[1].insert_id, rows[3].insert_id]
    )
    assert.deepEqual(
      fake.rowsOf('token_balance_changes').map((row) => row.diff),
      [100, 102, 101, 103]
    )
  })

  test('a row sent twice carries the same insertId and is stored once', async ({ assert }) => {
    await someTopups(2)
    // BigQuery stores the rows but the answer is lost on the way back.
    fake.dropResponses = 1
    const shipper = shipperFor(sinkFor(fake))
    const first = await shipper.shipDue()
    assert.equal(first.retrying, 2)
    assert.lengthOf(fake.rowsOf('token_balance_changes'), 2)

    travel(60_000)
    assert.equal((await shipper.shipDue()).sent, 2)
    const sent = fake.sentInsertIds('token_balance_changes')
    const rows = await outbox()
    assert.deepEqual(sent, [
      rows[0].insert_id,
      rows[1].insert_id,
      rows[0].insert_id,
      rows[1].insert_id,
    ])
    assert.lengthOf(fake.rowsOf('token_balance_changes'), 2)
  })

  test('an invalid row is dead-lettered at once without holding back the others', async ({
    assert,
  }) => {
    await recordEvent(db.connection(), 'token_balance_changes', {
      userid: 'u1',
      email: 'u1@example.com',
      action: 'topup',
      diff: 'a lot',
      old_balance: 0,
      new_balance: 0,
      status: 'applied',
      reference: 'bad',
    })
    await someTopups(1)
    const result = await shipperFor(sinkFor(fake)).shipDue()
    assert.deepEqual(result, { claimed: 2, sent: 1, retrying: 0, dead: 1 })
    const rows = await outbox()
    assert.deepEqual(
      rows.map((row) => row.status),
      ['dead', 'sent']
    )
    assert.match(rows[0].last_error, /invalid: Cannot convert value to integer: diff/)
    assert.deepEqual(
      fake.rowsOf('token_balance_changes').map((row) => row.diff),
      [100]
    )
  })

  test('after N failed attempts a row is dead; flush --retry-dead replays it', async ({
    assert,
  }) => {
    await someTopups(2)
    const shipper = shipperFor(sinkFor(fake), { maxAttempts: 3 })
    fake.mode = 'down'
    let elapsed = 0
    for (let attempt = 0; attempt < 3; attempt++) {
      await shipper.shipDue()
      elapsed += 60_000
      travel(elapsed)
    }
    let rows = await outbox()
    assert.deepEqual(
      rows.map((row) => [row.status, row.attempts]),
      [
        ['dead', 3],
        ['dead', 3],
      ]
    )
    // Dead rows are not picked up any more, even when BigQuery is back.
    fake.mode = 'up'
    assert.equal((await shipper.shipDue()).claimed, 0)
    assert.equal((await shipper.flush()).claimed, 0)

    const replay = await shipper.flush({ retryDead: true })
    assert.equal(replay.revived, 2)
    assert.equal(replay.sent, 2)
    rows = await outbox()
    assert.isTrue(rows.every((row) => row.status === 'sent'))
    assert.lengthOf(fake.rowsOf('token_balance_changes'), 2)
  })

  test('flush ships rows that are still backing off, each once per run', async ({ assert }) => {
    await someTopups(2)
    const shipper = shipperFor(sinkFor(fake))
    fake.mode = 'down'
    await shipper.shipDue()
    const down = await shipper.flush()
    assert.deepEqual(down, { claimed: 2, sent: 0, retrying: 2, dead: 0, revived: 0 })
    fake.mode = 'up'
    const up = await shipper.flush()
    assert.equal(up.sent, 2)
    assert.isTrue((await outbox()).every((row) => row.status === 'sent' && row.attempts === 3))
  })

  test('a missing table is retried, not lost, and arrives after setup', async ({ assert }) => {
    const bare = await new FakeBigQueryServer().start()
    try {
      await someTopups(2)
      const shipper = shipperFor(sinkFor(bare))
      const result = await shipper.shipDue()
      assert.equal(result.retrying, 2)
      assert.match((await outbox())[0].last_error, /Not found: Dataset/)
      await sinkFor(bare).setup()
      travel(60_000)
      assert.equal((await shipper.shipDue()).sent, 2)
      assert.lengthOf(bare.rowsOf('token_balance_changes'), 2)
    } finally {
      await bare.stop()
    }
  })
})
