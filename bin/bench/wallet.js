/*
 * Wallet throughput on SQLite: concurrent callers run WalletService.change
 * (the real service: transaction, conditional balance update, ledger row,
 * outbox row) against a fresh database file, a mix of debits, credits and
 * replayed references. Prints applied changes/s and latency, checks the
 * ledger invariant (balance = sum of applied diffs, never negative) at the
 * end, and writes the numbers to docs/benchmarks.md ("Wallet" section).
 *
 *   node bin/bench/wallet.js [--callers 64] [--ops 20000] [--users 50] [--processes 1]
 *
 * --processes N forks N processes writing to the same file (like the web
 * process and `node ace worker` do), each with its own callers.
 */
import '@poppinss/ts-exec'
import { fork } from 'node:child_process'
import { rmSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'

const args = process.argv.slice(2)
const flag = (name, fallback) => {
  const index = args.indexOf(`--${name}`)
  return index === -1 ? fallback : Number(args[index + 1])
}
const isChild = args.includes('--child')
const callers = flag('callers', 64)
const totalOps = flag('ops', 20_000)
const userCount = flag('users', 50)
const processes = flag('processes', 1)
const database = `${process.cwd()}/tmp/bench-wallet.sqlite3`
const STARTING_BALANCE = 500

process.env.NODE_ENV = 'test'
process.env.DATABASE_PATH = database
process.env.LOG_LEVEL = 'warn'
process.env.WORKER_IN_PROCESS = 'false'

if (!isChild) for (const suffix of ['', '-wal', '-shm']) rmSync(database + suffix, { force: true })

const APP_ROOT = new URL('../../', import.meta.url)
const { Ignitor } = await import('@adonisjs/core')
const app = new Ignitor(APP_ROOT, {
  importer: (path) =>
    import(path.startsWith('./') || path.startsWith('../') ? new URL(path, APP_ROOT).href : path),
})
  .tap((application) => application.booting(() => import('#start/env')))
  .createApp('console')
await app.init()
await app.boot()

const { default: db } = await import('@adonisjs/lucid/services/db')
const { default: walletService } = await import('#services/wallet_service')

/** One process's share of the work: `callers` concurrent loops over `ops` changes. */
async function runCallers(userIds, ops, tag) {
  const counts = { applied: 0, rejected: 0, duplicate: 0, errors: 0 }
  const latencies = []
  const references = []
  let next = 0
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < ops) {
        const n = next++
        const userId = userIds[Math.floor(Math.random() * userIds.length)]
        const roll = Math.random()
        let change
        if (roll < 0.02 && references.length > 0) {
          /* A replay (a retried postback or admin request): must apply nothing. */
          change = references[Math.floor(Math.random() * references.length)]
        } else {
          const debit = roll < 0.75
          const diff = debit
            ? -(1 + Math.floor(Math.random() * 100))
            : 1 + Math.floor(Math.random() * 200)
          change = {
            userId,
            action: debit ? 'used' : 'manual',
            diff,
            reference: `bench:${tag}:${n}`,
            description: debit ? 'Bench debit' : 'Bench credit',
          }
        }
        const t0 = performance.now()
        try {
          const result = await walletService.change(change)
          counts[result.status] += 1
          if (result.status === 'applied' && references.length < 1000) references.push(change)
        } catch (error) {
          counts.errors += 1
          if (counts.errors <= 3) console.error(`change failed: ${error.message}`)
        }
        latencies.push(performance.now() - t0)
      }
    })
  )
  const cpu = process.cpuUsage(cpuBefore)
  return {
    counts,
    latencies,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  }
}

if (isChild) {
  const userIds = JSON.parse(process.env.BENCH_USERS)
  const result = await runCallers(userIds, Number(process.env.BENCH_OPS), process.env.BENCH_TAG)
  process.send(result)
  await db.manager.closeAll()
  process.exit(0)
}

/* ---- parent: migrate, seed, run, check ---- */
const { MigrationRunner } = await import('@adonisjs/lucid/migration')
const migrator = new MigrationRunner(db, app, { direction: 'up' })
await migrator.run()
if (migrator.error) throw migrator.error

const { uuidv7 } = await import('#helpers/ids')
const now = new Date().toISOString().slice(0, 19).replace('T', ' ')
const userIds = Array.from({ length: userCount }, () => uuidv7())
await db.table('users').multiInsert(
  userIds.map((id, index) => ({
    id,
    email: `bench${index}@example.com`,
    password: 'not-a-real-hash',
    status: 'activated',
    balance: 0,
    session_version: 1,
    created_at: now,
    updated_at: now,
  }))
)
for (const userId of userIds) {
  await walletService.change({
    userId,
    action: 'manual',
    diff: STARTING_BALANCE,
    reference: `bench:seed:${userId}`,
    description: 'Bench seed',
  })
}

let results
const started = performance.now()
if (processes <= 1) {
  results = [await runCallers(userIds, totalOps, 'p0')]
} else {
  const share = Math.ceil(totalOps / processes)
  results = await Promise.all(
    Array.from(
      { length: processes },
      (_, index) =>
        new Promise((resolve, reject) => {
          const child = fork(new URL(import.meta.url).pathname, [...args, '--child'], {
            env: {
              ...process.env,
              BENCH_USERS: JSON.stringify(userIds),
              BENCH_OPS: String(share),
              BENCH_TAG: `p${index}`,
            },
          })
          child.once('message', resolve)
          child.once(
            'exit',
            (code) => code !== 0 && reject(new Error(`bench child exited with ${code}`))
          )
        })
    )
  )
}
const wallSeconds = (performance.now() - started) / 1000

const counts = { applied: 0, rejected: 0, duplicate: 0, errors: 0 }
const latencies = []
let cpuSeconds = 0
for (const result of results) {
  cpuSeconds += result.cpuSeconds
  for (const key of Object.keys(counts)) counts[key] += result.counts[key]
  latencies.push(...result.latencies)
}
latencies.sort((a, b) => a - b)
const percentile = (p) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]

const violations = await walletService.findInvariantViolations()
const [{ applied_rows: appliedRows }] = await db
  .from('ledger_entries')
  .where('status', 'applied')
  .whereLike('reference', 'bench:p%')
  .count('* as applied_rows')
const [{ negative }] = await db.from('users').where('balance', '<', 0).count('* as negative')
const invariantOk =
  violations.length === 0 && Number(appliedRows) === counts.applied && Number(negative) === 0

const appliedPerSecond = counts.applied / wallSeconds
/* CPU time this process spent per change: on a busy machine wall time says little, this says what one free core could do. */
const cpuMsPerChange = (cpuSeconds * 1000) / (counts.applied + counts.rejected + counts.duplicate)
const perCore = 1000 / cpuMsPerChange
const changesPerSecond = (counts.applied + counts.rejected) / wallSeconds
const line = (label, value) => console.log(`${label.padEnd(28)} ${value}`)
line('processes × callers', `${processes} × ${callers}`)
line('users', userCount)
line('operations', totalOps)
line('applied / rejected / replays', `${counts.applied} / ${counts.rejected} / ${counts.duplicate}`)
line('errors', counts.errors)
line('wall time', `${wallSeconds.toFixed(2)} s`)
line('applied changes/s', appliedPerSecond.toFixed(0))
line('ledger rows/s (incl. refused)', changesPerSecond.toFixed(0))
line(
  'CPU per change',
  `${cpuMsPerChange.toFixed(3)} ms → ${perCore.toFixed(0)} changes/s per free core`
)
line('load average (1 min)', loadavg()[0].toFixed(1))
line('latency p50 / p99', `${percentile(50).toFixed(2)} ms / ${percentile(99).toFixed(2)} ms`)
line('invariant', invariantOk ? 'holds' : `VIOLATED (${JSON.stringify(violations.slice(0, 3))})`)

const { updateBenchmarkSection } = await import('./report.js')
const cpu = cpus()[0]?.model ?? 'unknown CPU'
updateBenchmarkSection(
  'Wallet',
  `
\`node bin/bench/wallet.js --callers ${callers} --ops ${totalOps} --users ${userCount} --processes ${processes}\`
(${new Date().toISOString().slice(0, 10)}, Node ${process.versions.node}, ${cpus().length} × ${cpu}).
Each operation is one \`WalletService.change\` (own transaction: conditional balance update, ledger row,
outbox row) on a fresh SQLite file (WAL, synchronous=NORMAL); 75 % debits, 23 % credits, 2 % replays
of an applied reference. Target: ≥ 2,000 applied changes/s.

| metric | value |
| --- | --- |
| processes × concurrent callers | ${processes} × ${callers} |
| applied / refused / replays (no-op) | ${counts.applied} / ${counts.rejected} / ${counts.duplicate} |
| errors | ${counts.errors} |
| wall time | ${wallSeconds.toFixed(2)} s |
| **applied changes/s** | **${appliedPerSecond.toFixed(0)}** |
| ledger rows/s (applied + refused) | ${changesPerSecond.toFixed(0)} |
| CPU time per change (all processes) | ${cpuMsPerChange.toFixed(3)} ms (≈ ${perCore.toFixed(0)} changes/s per free core) |
| machine load average during the run | ${loadavg()[0].toFixed(1)} on ${cpus().length} cores |
| latency p50 / p99 per change | ${percentile(50).toFixed(2)} ms / ${percentile(99).toFixed(2)} ms |
| invariant (balance = Σ applied diffs, ≥ 0) | ${invariantOk ? 'holds' : 'VIOLATED'} |

Wall time depends on what else runs on this shared 2-core machine; CPU time per change is the
steadier figure (one free core ≈ 1000 / CPU ms changes/s). How it got there, same machine, same
load (≈ 11): through the query builder with one transaction per change, 2.4 ms CPU per change
(≈ 420/s per free core, 100–180/s wall), and with \`--processes 2\` 38 % of changes failed with
"database is locked" (a deferred transaction cannot upgrade to a write lock once another process
wrote). Now: every transaction begins IMMEDIATE (\`config/database.ts\`, no such failures), and
\`WalletService\` applies the changes that queue up while the connection is busy together —
synchronous better-sqlite3 statements prepared once, one BEGIN IMMEDIATE … COMMIT per batch, a
SAVEPOINT per change so each stays all-or-nothing with its own result. A change that finds the
connection idle commits alone. Changes made inside a caller's transaction (\`change(c, trx)\`)
run the same statements on that transaction's connection.
`
)

await db.manager.closeAll()
process.exit(invariantOk && counts.errors === 0 ? 0 : 1)
