/*
 * `npm run chaos`: the app under customers while its processes are killed.
 *
 * Builds the app, then runs the production build (NODE_ENV=production) as two
 * processes, the web process and the worker (`node ace worker`,
 * WORKER_IN_PROCESS=false), on 127.0.0.1 with their own database, mailbox and
 * storage under tmp/chaos (never the dev or test data). Fakes stand in for
 * the outside world over real HTTP: apay (tests/fakes/apay_server.ts), the
 * generation API (tests/fakes/generation_server.ts, each job succeeding,
 * failing, losing the job or expiring its first output URL) and BigQuery
 * (tests/fakes/bigquery_server.ts).
 *
 * N simulated customers (bin/chaos/customer.ts) sign up, activate from the
 * mailed link, buy packs through apay (paying or declining; apay's postback
 * races their return), create tasks, upload a video and an audio file (raw
 * PUT and multipart), launch and regenerate runs. Meanwhile the web process is
 * killed with SIGKILL at random moments and restarted at once, and the worker
 * is killed at a random moment while it holds the worker lease (a worker
 * waiting for the lease does nothing worth killing) and restarted.
 *
 * Then the kills stop, the customers finish what they started, the pending
 * analytics rows are flushed (`node ace dwh:flush`), the staging files that
 * killed uploads left are aged past the sweep's 6 h threshold and a worker
 * runs the sweep. bin/chaos/checks.ts then checks the database, the storage
 * folder and the fakes' records: the ledger invariant for every user, every
 * paid order credited exactly once, every run charged once and succeeded or
 * refunded, every outbox row stored once in BigQuery, no staging file left.
 * Prints a summary, writes the "Chaos run" section of docs/benchmarks.md
 * and exits 1 if any check failed.
 *
 *   npm run chaos -- [--customers 20] [--seconds 150] [--drain-seconds 150]
 *                    [--web-kill-every 3-10] [--worker-kill-after 1-10]
 *                    [--provider http|local] [--seed 42] [--no-build] [--no-docs]
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, utimesSync } from 'node:fs'
import { createServer } from 'node:net'
import { cpus, hostname, loadavg } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { FakeApay } from '../tests/fakes/apay_server.js'
import { FakeBigQueryServer } from '../tests/fakes/bigquery_server.js'
import { FakeGenerationServer, type FakeMode } from '../tests/fakes/generation_server.js'
import { updateBenchmarkSection } from './bench/report.js'
import { AppProcesses, type Role } from './chaos/apps.js'
import { counts, runChecks, stagingCheck, type Check } from './chaos/checks.js'
import { Customer, emptyStats, type World } from './chaos/customer.js'

const args = process.argv.slice(2)
function option(name: string, fallback: string) {
  const index = args.indexOf(`--${name}`)
  return index === -1 ? fallback : args[index + 1]
}
function range(name: string, fallback: string) {
  const [low, high] = option(name, fallback).split('-').map(Number)
  return { low, high: high ?? low }
}
const customersCount = Number(option('customers', '20'))
const chaosSeconds = Number(option('seconds', '150'))
const drainSeconds = Number(option('drain-seconds', '150'))
const webKillEvery = range('web-kill-every', '3-10')
const workerKillAfter = range('worker-kill-after', '1-10')
const provider = option('provider', 'http')
const seed = Number(option('seed', String(Date.now() % 100_000)))
const build = !args.includes('--no-build')
const writeDocs = !args.includes('--no-docs')

/* mulberry32: a small seeded generator, so a run's choices can be replayed with --seed. */
function seeded(start: number) {
  let state = start >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const random = seeded(seed)
const between = ({ low, high }: { low: number; high: number }) => low + random() * (high - low)

function freePort() {
  return new Promise<number>((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

function run(cmd: string, cmdArgs: string[]) {
  const result = spawnSync(cmd, cmdArgs, { stdio: 'inherit' })
  if (result.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed`)
}

/* Tiny real media (ffmpeg): a 2 s video with sound and a 1.5 s voice track. */
function makeMedia(dir: string) {
  mkdirSync(dir, { recursive: true })
  const video = join(dir, 'video.mp4')
  const audio = join(dir, 'audio.mp3')
  // prettier-ignore
  run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=15',
    '-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=22050', '-t', '2', '-c:v', 'libx264',
    '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '32k', video])
  // prettier-ignore
  run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=500:sample_rate=22050',
    '-t', '1.5', '-c:a', 'libmp3lame', '-b:a', '32k', audio])
  return { video, audio }
}

/** The generation API fake, each job with a random fate. */
async function startGeneration(outputFile: string) {
  const fake = await new FakeGenerationServer(outputFile).start()
  /* Each job picks its fate at submit: mostly fine, some fail, some are lost, some outputs expire once. */
  const fates: [FakeMode, number][] = [
    ['succeed', 0.7],
    ['fail', 0.15],
    ['forget', 0.05],
    ['expire_once', 0.1],
  ]
  Object.defineProperty(fake, 'mode', {
    get() {
      let roll = random()
      for (const [mode, share] of fates) {
        roll -= share
        if (roll < 0) return mode
      }
      return 'succeed'
    },
    set() {},
  })
  return fake
}

const started = Date.now()
const work = join(process.cwd(), 'tmp', 'chaos')
rmSync(work, { recursive: true, force: true })
const logDir = join(work, 'logs')
mkdirSync(logDir, { recursive: true })
console.log(`chaos run: ${customersCount} customers, ${chaosSeconds} s of kills, seed ${seed}`)
if (build) run('node', ['ace', 'build'])
const mediaFiles = makeMedia(join(work, 'media'))
const media = { video: readFileSync(mediaFiles.video), audio: readFileSync(mediaFiles.audio) }

const apay = await new FakeApay().start()
const bigQuery = await new FakeBigQueryServer().start()
const generation: FakeGenerationServer | null =
  provider === 'http' ? await startGeneration(mediaFiles.video) : null

const port = await freePort()
const base = `http://127.0.0.1:${port}`
const databasePath = join(work, 'chaos.sqlite3')
const storagePath = join(work, 'storage')
const env: NodeJS.ProcessEnv = {
  ...process.env,
  NODE_ENV: 'production',
  PORT: String(port),
  HOST: '127.0.0.1',
  APP_URL: base,
  APP_KEY: randomBytes(24).toString('hex'),
  LOG_LEVEL: 'info',
  DATABASE_PATH: databasePath,
  SESSION_DRIVER: 'cookie',
  MAIL_MAILER: 'dev',
  MAILBOX_PATH: join(work, 'mailbox'),
  STORAGE_PATH: storagePath,
  DRIVE_DISK: 'fs',
  WORKER_IN_PROCESS: 'false',
  WORKER_POLL_MS: '500',
  /* The customers come through a proxy on 127.0.0.1, each with its own address. */
  TRUSTED_PROXIES: '127.0.0.1',
  PAYMENT_GATEWAY: 'apay',
  APAY_API_URL: apay.url,
  /* The shop's prod token: APAY_ENVIRONMENT defaults to prod in production. */
  APAY_TOKEN: apay.prodToken,
  APAY_TIMEOUT_MS: '5000',
  GENERATION_PROVIDER: provider,
  GENERATION_API_URL: generation?.url ?? '',
  GENERATION_API_KEY: generation?.apiKey ?? '',
  BIGQUERY_PROJECT_ID: 'chaos-project',
  BIGQUERY_DATASET: 'vgen_chaos',
  BIGQUERY_API_ENDPOINT: bigQuery.url,
  SHUTDOWN_TIMEOUT_SECONDS: '10',
  GTM_ID: '',
}
const apps = new AppProcesses(join(process.cwd(), 'build'), env, logDir, base)
/* Whatever ends this script, the app processes it started end with it. */
process.once('exit', () => apps.killNow())

const kills: Record<Role, number> = { web: 0, worker: 0 }
let lastKillAt = 0
const stats = emptyStats()
const checks: Check[] = []
const failures: string[] = []
const phaseTimes = { chaos: 0, drain: 0 }

try {
  for (const step of [['migration:run', '--force'], ['dwh:setup']]) {
    const result = await apps.ace(step)
    if (result.code !== 0) throw new Error(`node ace ${step.join(' ')} failed:\n${result.output}`)
  }
  await apps.start('web')
  await apps.start('worker')

  const chaosStarted = Date.now()
  const chaosEndsAt = chaosStarted + chaosSeconds * 1000
  const world: World = {
    base,
    mailbox: env.MAILBOX_PATH!,
    mails: new Map(),
    apay,
    media,
    random,
    stats,
    chaosEndsAt,
    giveUpAt: chaosEndsAt + drainSeconds * 1000,
  }
  const runTag = seed.toString(36)
  const customers = Array.from(
    { length: customersCount },
    (_, index) => new Customer(index, world, runTag)
  )
  /* Customers arrive over the first few seconds, not all in the same millisecond. */
  /* Each life's failure is kept for the summary (never an unhandled rejection mid-run). */
  const lives = customers.map(async (customer) => {
    await sleep(random() * 5000)
    return customer.life().then(
      () => null,
      (error: Error) => error
    )
  })

  const workerLeaseHolder = () => {
    const sqlite = new Database(databasePath, { readonly: true })
    try {
      return (
        sqlite.prepare(`SELECT holder FROM worker_leases WHERE name = 'main'`).get() as
          { holder: string } | undefined
      )?.holder
    } finally {
      sqlite.close()
    }
  }
  const killAndRestart = async (role: Role) => {
    lastKillAt = Date.now()
    if (await apps.kill(role)) kills[role] += 1
    /* Down for a moment, as a supervisor's restart takes. */
    await sleep(random() * 1000)
    await apps.start(role)
  }
  const webMonkey = async () => {
    while (Date.now() < chaosEndsAt) {
      await sleep(between(webKillEvery) * 1000)
      if (Date.now() >= chaosEndsAt) break
      await killAndRestart('web')
    }
  }
  const workerMonkey = async () => {
    while (Date.now() < chaosEndsAt) {
      /* A killed worker's lease lasts 30 s; kill the next one once it holds the lease and works. */
      const pid = apps.pid('worker')
      if (!pid || workerLeaseHolder() !== `${hostname()}:${pid}`) {
        await sleep(250)
        continue
      }
      await sleep(between(workerKillAfter) * 1000)
      if (Date.now() >= chaosEndsAt) break
      await killAndRestart('worker')
    }
  }
  const monkeys = Promise.all([webMonkey(), workerMonkey()])
  await monkeys
  phaseTimes.chaos = (Date.now() - chaosStarted) / 1000
  console.log(`kills done: web ${kills.web}, worker ${kills.worker}; customers finishing…`)

  const drainStarted = Date.now()
  for (const error of await Promise.all(lives)) if (error) failures.push(error.message)
  /* Runs the customers stopped waiting for still have to end (the worker may still be on them). */
  const activeRuns = () => {
    const sqlite = new Database(databasePath, { readonly: true })
    try {
      return (
        sqlite
          .prepare(`SELECT COUNT(*) AS n FROM runs WHERE status IN ('queued', 'running')`)
          .get() as { n: number }
      ).n
    } finally {
      sqlite.close()
    }
  }
  while (activeRuns() > 0 && Date.now() < world.giveUpAt + 30_000) await sleep(1000)
  const reconcile = await apps.ace(['payments:reconcile'])
  if (reconcile.code !== 0) failures.push(`payments:reconcile failed: ${reconcile.output.trim()}`)

  /* The staging sweep: files from killed uploads, aged past the 6 h threshold, then a worker sweeps. */
  await apps.stop('worker')
  const stagingDir = join(storagePath, '.work', 'staging')
  const staged = listFiles(stagingDir)
  /* Made after the last kill: by a process that was never killed (web, or the worker stopped gracefully). */
  const leakedByLive = staged.filter((name) => uuidTime(name) > lastKillAt)
  const aged = (Date.now() - 7 * 3600 * 1000) / 1000
  for (const name of staged) utimesSync(join(stagingDir, name), aged, aged)
  /* Resumable uploads whose creation answer was lost stay resumable for 24 h: age them too. */
  const tusDir = join(storagePath, '.work', 'uploads')
  const abandoned = ageResumableUploads(databasePath)
  await apps.start('worker')
  const sweepDeadline = Date.now() + 20_000
  const leftovers = () => [
    ...listFiles(stagingDir),
    ...listFiles(tusDir).map((name) => `uploads/${name}`),
  ]
  while (leftovers().length > 0 && Date.now() < sweepDeadline) await sleep(250)
  const afterSweep = leftovers()
  await apps.stopAll()
  const flush = await apps.ace(['dwh:flush'])
  if (flush.code !== 0) failures.push(`dwh:flush failed: ${flush.output.trim()}`)
  phaseTimes.drain = (Date.now() - drainStarted) / 1000

  checks.push(
    ...runChecks({ databasePath, storagePath, apay, bigQuery, stats }),
    stagingCheck(staged, leakedByLive, afterSweep, abandoned),
    {
      name: 'every upload the server acknowledged became the task input',
      ok: stats.lostUploads.length === 0,
      detail: stats.lostUploads.length
        ? stats.lostUploads.slice(0, 5).join('; ')
        : `${stats.uploads} uploads (${stats.resumableUploads} resumable, ${stats.resumes} resumed after a failure)`,
    },
    {
      name: 'no process died except by our kills',
      ok: apps.crashes.length === 0,
      detail: apps.crashes.length
        ? apps.crashes
            .map((crash) => `${crash.role} exited ${crash.code ?? crash.signal} (${crash.log})`)
            .join('; ')
        : 'none',
    },
    {
      name: 'no 5xx answer',
      ok: stats.serverErrors.length === 0,
      detail: stats.serverErrors.length
        ? `${stats.serverErrors.length}: ${[...new Set(stats.serverErrors)].slice(0, 5).join('; ')}`
        : 'none',
    },
    {
      name: 'every customer finished',
      ok: failures.length === 0,
      detail: failures.length
        ? failures.slice(0, 5).join('; ')
        : `${customersCount} of ${customersCount}`,
    }
  )
} finally {
  await apps.stopAll()
  await apay.close()
  await bigQuery.stop()
  await generation?.stop()
}

const totals = counts(databasePath)
const errorLines = countErrorLines(logDir)
const seconds = (Date.now() - started) / 1000
const allOk = checks.every((item) => item.ok)
const killsTotal = kills.web + kills.worker

console.log('\n=== chaos run summary')
console.log(
  `kills survived: ${killsTotal} (web ${kills.web}, worker ${kills.worker}) in ${phaseTimes.chaos.toFixed(0)} s; ` +
    `drain ${phaseTimes.drain.toFixed(0)} s; total ${seconds.toFixed(0)} s; seed ${seed}`
)
console.log(
  `customers ${stats.activated}/${customersCount} activated; orders ${totals.orders} (${totals.paidOrders} paid, ${stats.ordersDeclined} declined); ` +
    `tasks ${stats.tasks}, uploads ${stats.uploads}; runs ${totals.runs} (${totals.succeededRuns} succeeded, ${totals.refundedRuns} refunded, ` +
    `${stats.regenerations} regenerations, ${totals.rejectedDebits} refused for lack of tokens); ` +
    `outbox ${totals.outboxRows} rows; customer retries ${stats.retries}; error log lines ${errorLines}`
)
const topRetries = [...stats.retryReasons].sort((a, b) => b[1] - a[1]).slice(0, 8)
console.log(`most retried: ${topRetries.map(([reason, n]) => `${n}× ${reason}`).join(' | ')}`)
for (const item of checks) console.log(`${item.ok ? 'PASS' : 'FAIL'}  ${item.name}: ${item.detail}`)
console.log(allOk ? '\nall invariants hold' : '\nINVARIANT VIOLATED (logs in tmp/chaos/logs)')

if (writeDocs) {
  const row =
    `| ${new Date().toISOString().slice(0, 16).replace('T', ' ')} | ${seed}${provider === 'http' ? '' : ` (${provider})`} | ${customersCount} | ${phaseTimes.chaos.toFixed(0)} s | ` +
    `**${killsTotal}** (${kills.web} web, ${kills.worker} worker) | ${totals.orders} / ${totals.paidOrders} | ` +
    `${totals.runs} / ${totals.succeededRuns} / ${totals.refundedRuns} | ${totals.outboxRows} | ${seconds.toFixed(0)} s | ` +
    `${
      allOk
        ? 'all hold'
        : `**FAILED**: ${checks
            .filter((item) => !item.ok)
            .map((item) => item.name)
            .join(', ')}`
    } |`
  updateBenchmarkSection('Chaos run', chaosSection(row))
}
process.exit(allOk ? 0 : 1)

/** Resumable uploads never finished: backdated past the 24 h expiry, so the sweep takes them. */
function ageResumableUploads(path: string) {
  const sqlite = new Database(path)
  try {
    return sqlite
      .prepare(`UPDATE resumable_uploads SET created_at = datetime('now', '-25 hours')`)
      .run().changes
  } finally {
    sqlite.close()
  }
}

function listFiles(dir: string) {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

/** Milliseconds since epoch in a UUIDv7 (staging files are named by one). */
function uuidTime(name: string) {
  const hex = name.replace(/-/g, '').slice(0, 12)
  return /^[0-9a-f]{12}$/.test(hex) ? Number.parseInt(hex, 16) : 0
}

/** Log lines at error level or worse (pino level >= 50) across every process start. */
function countErrorLines(dir: string) {
  let count = 0
  for (const name of listFiles(dir)) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (/"level":(5|6)\d/.test(line)) count += 1
    }
  }
  return count
}

/** The section text: how it works, then the last runs (newest first, at most 10). */
function chaosSection(row: string) {
  const header =
    '| when (UTC) | seed | customers | chaos phase | kills survived | orders / paid | runs / succeeded / refunded | outbox rows | total time | invariants |'
  let previous: string[] = []
  try {
    const text = readFileSync('docs/benchmarks.md', 'utf8')
    const section = text.split('## Chaos run')[1]?.split('\n## ')[0] ?? ''
    previous = section.split('\n').filter((line) => /^\| \d{4}-\d\d-\d\d/.test(line))
  } catch {}
  return [
    '`npm run chaos` (not part of `npm test`): the production build as a web process and a worker ' +
      '(`node ace worker`), 20 simulated customers over HTTP (sign-up, activation from the mailed link, ' +
      'packs bought through apay with its postback, video + audio uploads by raw PUT, multipart and tus ' +
      '(resumed from the server offset after a kill), launches and regenerations), while the web process ' +
      'is killed with SIGKILL every 3–10 s and the ' +
      'worker 1–10 s after it takes the worker lease, each restarted at once. apay, the generation API ' +
      '(70% of jobs succeed, 15% fail, 5% are lost, 10% expire their first output URL) and BigQuery are ' +
      'fakes over real HTTP. Afterwards: ledger invariant for every user, every paid order credited ' +
      'exactly once, every run charged once and succeeded or refunded once, every outbox row stored once ' +
      'in BigQuery (by insertId) with one event per fact, every upload the server acknowledged is the ' +
      "task's input, no staging file or abandoned resumable upload left after the sweeps, no 5xx, no crash. " +
      'A killed worker holds the worker lease until it expires (30 s), so background work pauses after each ' +
      'worker kill; that is why runs per minute are far below a calm run. See bin/chaos.ts.',
    '',
    header,
    '| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |',
    row,
    ...previous.slice(0, 9),
    '',
    'Found by these runs and fixed (tests/functional/uploads/tus_interrupted_finish.spec.ts): a tus ' +
      'upload whose final PATCH was cut by the kill during its completion answered HEAD with the full ' +
      'offset, so the client stopped and the file never became the input; and the resumable-upload ' +
      'sweep stopped for good at a row whose files a killed process never wrote; and (with ' +
      '`--provider local`) a released job restarted from the render queue leaked its render slot, so ' +
      'later runs stayed queued until their deadline (tests/functional/tasks/local_render_slots.spec.ts). ' +
      'No double charge, ' +
      'lost refund, double credit, stuck run or duplicate BigQuery row was seen.',
    '',
    `Machine: ${cpus().length} cores, load ${loadavg()[0].toFixed(1)} at the end of the last run (shared with other work).`,
  ].join('\n')
}
