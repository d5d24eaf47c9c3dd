import { test } from '@japa/runner'
import db from '@adonisjs/lucid/services/db'
import env from '#start/env'
import { DateTime } from 'luxon'
import { freshState } from '#tests/helpers/db'

function sqlTime(value: DateTime) {
  return value.toUTC().toFormat('yyyy-LL-dd HH:mm:ss')
}

async function heartbeat(secondsAgo: number) {
  const at = DateTime.utc().minus({ seconds: secondsAgo })
  await db.table('worker_leases').insert({
    name: 'main',
    holder: 'other-host:1',
    expires_at: sqlTime(at.plus({ seconds: 30 })),
    heartbeat_at: sqlTime(at),
  })
}

function check(body: any, name: string) {
  return body.checks.find((entry: any) => entry.name === name)
}

test.group('Health probes', (group) => {
  freshState(group)
  group.each.teardown(() => {
    env.set('HEALTH_REQUIRE_WORKER', undefined as any)
    delete process.env.HEALTH_REQUIRE_WORKER
  })

  test('liveness answers ok', async ({ client, assert }) => {
    const response = await client.get('/health')
    response.assertStatus(200)
    response.assertBody({ status: 'ok' })
    assert.equal(response.header('cache-control'), 'no-store')
  })

  test('readiness reports database, storage, migrations and worker', async ({ client, assert }) => {
    await heartbeat(5)
    const response = await client.get('/health/ready')
    response.assertStatus(200)
    const body = response.body()
    assert.isTrue(body.healthy)
    assert.deepEqual(
      body.checks.map((entry: any) => [entry.name, entry.status]),
      [
        ['database', 'ok'],
        ['storage', 'ok'],
        ['migrations', 'ok'],
        ['worker', 'ok'],
      ]
    )
    assert.equal(check(body, 'worker').meta.heartbeatAgeSeconds, 5)
  })

  test('readiness reveals no secrets or process details', async ({ client, assert }) => {
    const response = await client.get('/health/ready')
    const text = response.text()
    for (const secret of [
      env.get('APP_KEY').release(),
      env.get('DATABASE_PATH')!,
      'pid',
      'stack',
    ]) {
      assert.notInclude(text, secret)
    }
  })

  test('a web-only instance with no worker yet is ready, with a warning', async ({
    client,
    assert,
  }) => {
    const response = await client.get('/health/ready')
    response.assertStatus(200)
    assert.equal(response.body().status, 'warning')
    assert.equal(check(response.body(), 'worker').message, 'No worker has started yet')
  })

  test('a stale heartbeat fails readiness when the worker is required', async ({
    client,
    assert,
  }) => {
    env.set('HEALTH_REQUIRE_WORKER', true)
    await heartbeat(120)
    const response = await client.get('/health/ready')
    response.assertStatus(503)
    assert.isFalse(response.body().healthy)
    assert.equal(check(response.body(), 'worker').status, 'error')
    assert.equal(check(response.body(), 'worker').message, 'Worker heartbeat is 120 s old')
  })

  test('a pending migration fails readiness', async ({ client, assert }) => {
    const last = await db.from('adonis_schema').orderBy('id', 'desc').firstOrFail()
    await db.from('adonis_schema').where('id', last.id).delete()
    try {
      const response = await client.get('/health/ready')
      response.assertStatus(503)
      assert.equal(check(response.body(), 'migrations').message, '1 migration(s) not applied')
    } finally {
      await db.table('adonis_schema').insert(last)
    }
  })
})
