/*
 * Analytics outbox throughput: N pending outbox rows (default 100 000; a mix
 * of the three tables) are shipped by the real OutboxShipper and the real
 * @google-cloud/bigquery client to the fake BigQuery server
 * (tests/fakes/bigquery_server.ts) running in a child process on 127.0.0.1.
 * Two passes: the worker's path (`shipDue` ticks) and `dwh:flush`'s path.
 * Prints rows/s and memory, checks every row arrived exactly once, and
 * writes docs/benchmarks.md ("Analytics outbox").
 *
 *   node bin/bench/dwh.js [--rows 100000] [--in-flight 4]
 */
import '@poppinss/ts-exec'
import 'reflect-metadata'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import v8 from 'node:v8'
import vm from 'node:vm'

/* A forced GC before each memory reading shows what is retained, not garbage waiting to be collected. */
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')
const retainedHeap = () => {
  gc()
  return process.memoryUsage().heapUsed
}

const args = process.argv.slice(2)
const flag = (name, fallback) => {
  const index = args.indexOf(`--${name}`)
  return index === -1 ? fallback : Number(args[index + 1])
}

if (args.includes('--serve-fake')) {
  await serveFake()
} else {
  await bench(flag('rows', 100_000))
}

/** Child process: the fake BigQuery; answers "stats" on stdin. */
async function serveFake() {
  const { FakeBigQueryServer } = await import('#tests/fakes/bigquery_server')
  const fake = await new FakeBigQueryServer().start()
  console.log(JSON.stringify({ port: fake.port }))
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'stats') continue
    const stored = {}
    for (const table of ['user_sessions', 'token_balance_changes', 'generation_launches']) {
      stored[table] = fake.rowsOf(table).length
    }
    const sizes = fake.insertAllCalls.map((call) => call.rows.length)
    const cpu = process.cpuUsage()
    console.log(
      JSON.stringify({
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        stored,
        sent: sizes.reduce((sum, size) => sum + size, 0),
        calls: sizes.length,
        largestCall: Math.max(0, ...sizes),
      })
    )
  }
  await fake.stop()
}

async function startFake() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve-fake'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const { port } = JSON.parse((await lines.next()).value)
  return {
    url: `http://127.0.0.1:${port}`,
    async stats() {
      child.stdin.write('stats\n')
      return JSON.parse((await lines.next()).value)
    },
    stop() {
      child.stdin.end()
      child.kill()
    },
  }
}

async function bootApp() {
  const root = new URL('../../', import.meta.url)
  const work = fileURLToPath(new URL('tmp/', root))
  const database = `${work}bench-dwh.sqlite3`
  for (const suffix of ['', '-wal', '-shm']) rmSync(database + suffix, { force: true })
  Object.assign(process.env, {
    NODE_ENV: 'test',
    DATABASE_PATH: database,
    STORAGE_PATH: `${work}bench-dwh-storage`,
    MAILBOX_PATH: `${work}bench-dwh-mailbox`,
    LOG_LEVEL: 'warn',
    BIGQUERY_PROJECT_ID: '',
  })
  /* Required by start/env.ts; a checkout without .env still runs the bench. */
  process.env.APP_KEY ||= randomBytes(24).toString('base64url')
  process.env.PORT ||= '3343'
  process.env.HOST ||= '127.0.0.1'
  process.env.APP_URL ||= 'http://127.0.0.1:3343'

  const { Ignitor } = await import('@adonisjs/core')
  const ignitor = new Ignitor(root, {
    importer: (path) =>
      path.startsWith('./') || path.startsWith('../') ? import(new URL(path, root).href) : import(path),
  })
  const app = ignitor.createApp('console')
  app.booting(async () => {
    await import('#start/env')
  })
  await app.init()
  await app.boot()
  await app.start(() => {})
  const db = await app.container.make('lucid.db')
  const { MigrationRunner } = await import('@adonisjs/lucid/migration')
  const migrator = new MigrationRunner(db, app, { direction: 'up', dryRun: false })
  await migrator.run()
  if (migrator.error) throw migrator.error
  return { app, db }
}

/** Realistic rows: ~60 % balance changes, 25 % sessions, 15 % launches. */
function payloadFor(index, now) {
  const userid = `0192f3a4-0000-7000-8000-${String(index % 5000).padStart(12, '0')}`
  const email = `user${index % 5000}@example.com`
  const kind = index % 20
  if (kind < 12) {
    return [
      'token_balance_changes',
      {
        timestamp: now,
        userid,
        email,
        action: ['topup', 'used', 'refund', 'manual'][index % 4],
        diff: index % 2 ? -300 : 10_000,
        old_balance: 50_000,
        new_balance: index % 2 ? 49_700 : 60_000,
        status: index % 7 ? 'applied' : 'rejected',
        reference: `used:run:${index}`,
      },
    ]
  }
  if (kind < 17) {
    return [
      'user_sessions',
      {
        timestamp: now,
        ip: `81.2.${index % 250}.${index % 200}`,
        geo: { country: 'GB' },
        useragent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36',
        action: index % 3 ? 'login' : 'signup',
        userid,
        email,
      },
    ]
  }
  return [
    'generation_launches',
    {
      timestamp: now,
      userid,
      email,
      taskid: `0192f3a4-1111-7000-8000-${String(index).padStart(12, '0')}`,
      task_properties: {
        run_id: index,
        provider_job_id: `job-${index}`,
        model: 'lipsync-pro',
        cost: 300,
        regeneration: index % 4 === 0,
        inputs: [
          { kind: 'video', size: 10_485_760, duration: 12.5, type: 'video/mp4' },
          { kind: 'audio', size: 524_288, duration: 12.1, type: 'audio/mpeg' },
        ],
      },
    },
  ]
}

async function fillOutbox(db, rows, offset) {
  const now = new Date().toISOString()
  const stamp = now.slice(0, 19).replace('T', ' ')
  for (let start = 0; start < rows; start += 500) {
    const chunk = []
    for (let index = start; index < Math.min(rows, start + 500); index++) {
      const [table, payload] = payloadFor(offset + index, now)
      chunk.push({
        table_name: table,
        insert_id: `bench-${offset + index}-${randomBytes(6).toString('hex')}`,
        payload: JSON.stringify(payload),
        status: 'pending',
        attempts: 0,
        next_attempt_at: stamp,
        created_at: stamp,
      })
    }
    await db.table('outbox_events').multiInsert(chunk)
  }
}

/** Runs `ship` while sampling memory every 100 ms and at each 10 % of progress. */
async function measure(label, rows, ship, progress) {
  gc()
  const memory = []
  const sample = () => {
    const { rss, heapUsed } = process.memoryUsage()
    memory.push({ rss, heapUsed })
  }
  sample()
  const timer = setInterval(sample, 100)
  const started = performance.now()
  const cpuBefore = process.cpuUsage()
  await ship()
  const seconds = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  clearInterval(timer)
  sample()
  const mb = (bytes) => Math.round(bytes / 1024 / 1024)
  const heaps = memory.map((entry) => entry.heapUsed)
  const result = {
    label,
    rows,
    seconds,
    rowsPerSecond: Math.round(rows / seconds),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rowsPerCpuSecond: Math.round(rows / ((cpu.user + cpu.system) / 1e6)),
    heapStartMb: mb(heaps[0]),
    heapPeakMb: mb(Math.max(...heaps)),
    heapEndMb: mb(heaps.at(-1)),
    rssPeakMb: mb(Math.max(...memory.map((entry) => entry.rss))),
    heapAtDeciles: progress.map((bytes) => mb(bytes)),
  }
  console.log(
    `${label}: ${rows} rows in ${seconds.toFixed(2)} s = ${result.rowsPerSecond} rows/s ` +
      `(shipper CPU ${result.cpuSeconds.toFixed(2)} s = ${result.rowsPerCpuSecond} rows per CPU-second); ` +
      `heap ${result.heapStartMb} → peak ${result.heapPeakMb} → ${result.heapEndMb} MB; RSS peak ${result.rssPeakMb} MB; ` +
      `heap retained at each 10 %: ${result.heapAtDeciles.join(', ')} MB`
  )
  return result
}

async function bench(rows) {
  const fake = await startFake()
  const { app, db } = await bootApp()
  try {
    const { BigQuerySink } = await import('#integrations/bigquery/sink')
    const { OutboxShipper } = await import('#services/dwh/shipper')
    const { default: dwhConfig } = await import('#config/dwh')
    const sink = new BigQuerySink({
      projectId: 'bench',
      dataset: 'analytics',
      location: 'US',
      apiEndpoint: fake.url,
    })
    await sink.setup()
    const shipping = { ...dwhConfig.shipping, inFlight: flag('in-flight', dwhConfig.shipping.inFlight) }
    const shipper = new OutboxShipper(sink, shipping)

    const loadBefore = loadavg()[0].toFixed(1)
    console.log(`filling the outbox with ${rows} pending rows... (load average ${loadBefore} on ${cpus().length} cores)`)
    await fillOutbox(db, rows, 0)
    const workerProgress = []
    const worker = await measure('worker (shipDue ticks)', rows, async () => {
      let done = 0
      let next = rows / 10
      for (let result = await shipper.shipDue(); result.claimed > 0; result = await shipper.shipDue()) {
        done += result.sent
        if (done >= next) {
          workerProgress.push(retainedHeap())
          next += rows / 10
        }
      }
    }, workerProgress)

    await fillOutbox(db, rows, rows)
    const flushProgress = []
    const flush = await measure('dwh:flush', rows, async () => {
      let done = 0
      let next = rows / 10
      await shipper.flush({
        onBatch: (result) => {
          done += result.sent
          if (done >= next) {
            flushProgress.push(retainedHeap())
            next += rows / 10
          }
        },
      })
    }, flushProgress)

    const stats = await fake.stats()
    const pending = await db.from('outbox_events').whereNot('status', 'sent').count('* as count')
    const storedTotal = Object.values(stats.stored).reduce((sum, count) => sum + count, 0)
    const ok = storedTotal === rows * 2 && stats.sent === rows * 2 && Number(pending[0].count) === 0
    console.log(
      `fake BigQuery: CPU ${stats.cpuSeconds.toFixed(2)} s; ${storedTotal} rows stored (${JSON.stringify(stats.stored)}), ${stats.calls} insertAll calls, ` +
        `largest ${stats.largestCall} rows; outbox rows not sent: ${pending[0].count} → ${ok ? 'OK' : 'MISMATCH'}`
    )

    const { updateBenchmarkSection } = await import('./report.js')
    const line = (result) =>
      `| ${result.label} | ${result.rows.toLocaleString('en-US')} | ${result.seconds.toFixed(2)} s | ` +
      `**${result.rowsPerSecond.toLocaleString('en-US')}** | ${result.cpuSeconds.toFixed(2)} s (${result.rowsPerCpuSecond.toLocaleString('en-US')}) | ` +
      `${result.heapStartMb} → ${result.heapPeakMb} → ${result.heapEndMb} MB | ` +
      `${result.heapAtDeciles.join(', ')} | ${result.rssPeakMb} MB |`
    updateBenchmarkSection(
      'Analytics outbox',
      `
\`node bin/bench/dwh.js\` (${new Date().toISOString().slice(0, 10)}, Node ${process.versions.node}, ${cpus().length} cores, load average
${loadBefore} when it started): ${rows.toLocaleString('en-US')} pending
outbox rows (60 % balance changes, 25 % sessions, 15 % launches) shipped by the real \`OutboxShipper\` and
\`@google-cloud/bigquery\` client to the fake BigQuery server in a child process (HTTP on 127.0.0.1),
${shipping.batchSize} rows per claim, one \`insertAll\` per table per claim, ${shipping.inFlight} claims in flight. Target: ≥ 10 000 rows/s, flat memory.

| path | rows | time | rows/s | shipper CPU (rows per CPU-second) | heap start → peak → end | heap retained after GC at each 10 % (MB) | RSS peak |
| --- | --- | --- | --- | --- | --- | --- | --- |
${line(worker)}
${line(flush)}

The fake server used ${stats.cpuSeconds.toFixed(1)} s of CPU in its own process. Wall time depends on what else runs on the
machine (a shared 2-core box); the CPU column is the stable figure.
Check: ${storedTotal.toLocaleString('en-US')} rows stored by the fake (each insertId once), ${stats.calls} \`insertAll\` calls,
largest ${stats.largestCall} rows; rows left unsent: ${pending[0].count} (${ok ? 'OK' : 'MISMATCH'}).
`
    )
    if (!ok) process.exitCode = 1
  } finally {
    fake.stop()
    await app.terminate()
  }
}
