/*
 * `npm run bench -- runs`: the generation worker under 1,000 runs.
 *
 * 100 users launch 10 runs each (the real launch transaction) against a
 * fake Replicate (tests/fakes/replicate_server.ts, child process) whose
 * jobs finish after a random 5–30 s with a 5 MB MP4 output. The worker is
 * the production one (`node ace worker`, its own process) next to the web
 * server (which takes the webhooks), both NODE_ENV=production. Two passes:
 * with webhooks, then polling only. Measured: provider-done → run-succeeded
 * (the fake stamps "done", the bench sees "succeeded" in the database,
 * sampled every 100 ms), the worker's RSS along the way, and every run
 * succeeded, charged once, ledger invariant. The reference in the same run
 * is a bare fetch of one 5 MB output to disk. A third pass sends 100 runs
 * through `local` and samples the number of ffmpeg processes.
 *
 *   node bin/bench/runs.js [--runs 1000] [--users 100] [--scale 1] [--local-runs 100]
 *
 * --scale multiplies the fake's 5–30 s job times (e.g. 0.2 for a quick try).
 */
import '@poppinss/ts-exec'
import 'reflect-metadata'
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { copyFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { updateBenchmarkSection } from './report.js'

const args = process.argv.slice(2)
const flag = (name, fallback) => {
  const index = args.indexOf(`--${name}`)
  return index === -1 ? fallback : Number(args[index + 1])
}
const RUNS = flag('runs', 1000)
const USERS = flag('users', 100)
const SCALE = flag('scale', 1)
const LOCAL_RUNS = flag('local-runs', 100)
const POLL_MS = flag('poll-ms', 5000)
const workerFlags = (() => {
  const index = args.indexOf('--worker-flags')
  return index === -1 ? [] : args[index + 1].split(' ').filter(Boolean)
})()
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim() || 100)
const root = fileURLToPath(new URL('../../', import.meta.url))
const work = `${root}tmp/bench-runs`
const port = 3397
const MB = 1024 * 1024


/* ------------------------------------------------------------ fake (child) */

async function serveFake() {
  const { FakeReplicateServer } = await import('#tests/fakes/replicate_server')
  const fake = new FakeReplicateServer(process.env.BENCH_OUTPUT)
  await fake.start()
  fake.appBase = process.env.BENCH_APP_URL
  fake.timed = { minMs: 5000 * SCALE, maxMs: 30_000 * SCALE }
  fake.autoWebhook = process.env.BENCH_WEBHOOKS === '1'
  console.log(JSON.stringify({ url: fake.url, token: fake.apiToken, secret: fake.webhookSecret }))
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'stats') continue
    const jobs = [...fake.jobs.values()]
    console.log(
      JSON.stringify({
        jobs: jobs.length,
        submits: fake.submits,
        webhooks: jobs.reduce((sum, job) => sum + job.webhooksSent, 0),
        statusCalls: fake.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/predictions/')).length,
        downloads: fake.requests.filter((r) => r.path.startsWith('/files/')).length,
        finished: Object.fromEntries(jobs.map((job) => [job.id, job.finishedAt ?? null])),
        hooked: Object.fromEntries(jobs.map((job) => [job.id, job.webhookAnsweredAt ?? null])),
      })
    )
  }
  await fake.stop()
}

/* ------------------------------------------------------------ helpers */

function run(cmd, cmdArgs, env) {
  const result = spawnSync(cmd, cmdArgs, { stdio: ['ignore', 'ignore', 'inherit'], env })
  if (result.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed`)
}

/** CPU seconds (user + system) a process has used so far. */
function cpuOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
  } catch {
    return 0
  }
}

function rssOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024
  } catch {
    return 0
  }
}

/** Live ffmpeg processes whose parent is `pid`: renders (our MP4 encodes) and the rest (poster frames). */
function ffmpegChildren(pid) {
  const counts = { renders: 0, other: 0 }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      /* A zombie has exited (it waits for its parent to collect it): not rendering. */
      if (Number(ppid) !== pid || comm !== 'ffmpeg' || state === 'Z') continue
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      if (cmdline.includes('+faststart')) counts.renders += 1
      else counts.other += 1
    } catch {}
  }
  return counts
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}
const mb = (bytes) => (bytes / MB).toFixed(0)

async function startFake(env, webhooks) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve-fake', '--scale', String(SCALE)], {
    env: { ...env, BENCH_WEBHOOKS: webhooks ? '1' : '0' },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const info = JSON.parse((await lines.next()).value)
  return {
    ...info,
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

function startProcess(name, processArgs, env) {
  const child = spawn(process.execPath, processArgs, { env, cwd: root, stdio: ['ignore', 'inherit', 'inherit'] })
  child.once('exit', (code, signal) => {
    if (!child.stopping) console.error(`${name} exited early (${code ?? signal})`)
  })
  return {
    child,
    async stop() {
      child.stopping = true
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(30_000)])
      if (child.exitCode === null) child.kill('SIGKILL')
    },
  }
}

async function waitForHttp(url) {
  for (let attempt = 0; attempt < 600; attempt++) {
    try {
      if ((await fetch(url)).status < 500) return
    } catch {}
    await sleep(100)
  }
  throw new Error(`${url} did not come up`)
}

/* ------------------------------------------------------------ main */

async function makeMedia() {
  mkdirSync(work, { recursive: true })
  const output = `${work}/output-5mb.mp4`
  if (!existsSync(output) || statSync(output).size < 4.5 * MB) {
    // prettier-ignore
    run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-t', '10',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '4200k', '-maxrate', '4200k', '-bufsize', '2M',
      '-pix_fmt', 'yuv420p', '-movflags', '+faststart', output])
  }
  const video = `${work}/input.mp4`
  const audio = `${work}/input.mp3`
  if (!existsSync(video)) {
    // prettier-ignore
    run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=15', '-f', 'lavfi',
      '-i', 'sine=frequency=300:sample_rate=22050', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast',
      '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '32k', video])
  }
  if (!existsSync(audio)) {
    // prettier-ignore
    run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=22050', '-t', '1.5',
      '-c:a', 'libmp3lame', '-b:a', '64k', audio])
  }
  return { output, video, audio }
}

async function bootApp(env) {
  Object.assign(process.env, env, { NODE_ENV: 'test' })
  const { Ignitor } = await import('@adonisjs/core')
  const ignitor = new Ignitor(new URL(`file://${root}`), {
    importer: (path) =>
      path.startsWith('./') || path.startsWith('../') ? import(new URL(path, `file://${root}`).href) : import(path),
  })
  const app = ignitor.createApp('console')
  app.booting(async () => {
    await import('#start/env')
  })
  await app.init()
  await app.boot()
  await app.start(() => {})
  return app
}

/** `users` users with `perUser` lip-sync tasks each, inputs in storage (shared files). */
async function seed(users, perUser, files, storage) {
  const { default: User } = await import('#models/user')
  const { default: Task } = await import('#models/task')
  const { default: TaskInput } = await import('#models/task_input')
  const { default: walletService } = await import('#services/wallet_service')
  mkdirSync(`${storage}/bench/inputs`, { recursive: true })
  await copyFile(files.video, `${storage}/bench/inputs/video.mp4`)
  await copyFile(files.audio, `${storage}/bench/inputs/audio.mp3`)
  const plan = []
  for (let u = 0; u < users; u++) {
    const user = await User.create({
      email: `bench-${u}-${randomBytes(4).toString('hex')}@example.com`,
      password: 'correct horse battery',
      status: 'activated',
      balance: 0,
    })
    await walletService.change({
      userId: user.id,
      action: 'manual',
      diff: Math.max(1, perUser) * 1000,
      reference: `bench:seed:${user.id}`,
      description: 'Bench balance',
    })
    const tasks = []
    for (let t = 0; t < perUser; t++) {
      const task = await Task.create({ userId: user.id, name: `Clip ${t + 1}`, model: 'lipsync', runsCount: 0 })
      await TaskInput.createMany([
        {
          taskId: task.id,
          kind: 'video',
          storageKey: 'bench/inputs/video.mp4',
          originalName: 'video.mp4',
          mimeType: 'video/mp4',
          container: 'mp4',
          size: statSync(files.video).size,
          duration: 2,
          width: 160,
          height: 120,
        },
        {
          taskId: task.id,
          kind: 'audio',
          storageKey: 'bench/inputs/audio.mp3',
          originalName: 'audio.mp3',
          mimeType: 'audio/mpeg',
          container: 'mp3',
          size: statSync(files.audio).size,
          duration: 1.5,
          width: null,
          height: null,
        },
      ])
      tasks.push(task.id)
    }
    plan.push({ userId: user.id, tasks })
  }
  return plan
}

/** Every user launches its runs one after another; the users all at once. */
async function launchAll(plan) {
  const { default: taskService } = await import('#services/tasks/task_service')
  const ids = []
  const started = performance.now()
  await Promise.all(
    plan.map(async ({ userId, tasks }) => {
      for (const taskId of tasks) ids.push((await taskService.launch(userId, taskId)).id)
    })
  )
  return { ids, seconds: (performance.now() - started) / 1000 }
}

/** Waits for every run to finish; returns when each was first seen succeeded, and memory samples. */
async function watch(db, ids, workerPid, timeoutMs, sampleFfmpeg = false) {
  const seen = new Map()
  const memory = []
  let peakFfmpeg = 0
  let peakOther = 0
  const deadline = Date.now() + timeoutMs
  let lastMemory = 0
  while (seen.size < ids.length && Date.now() < deadline) {
    const rows = await db.from('runs').select('id', 'provider_job_id', 'status').whereIn('status', ['succeeded', 'failed'])
    const now = Date.now()
    for (const row of rows) if (!seen.has(row.id)) seen.set(row.id, { at: now, status: row.status, job: row.provider_job_id })
    if (sampleFfmpeg) {
      const now = ffmpegChildren(workerPid)
      peakFfmpeg = Math.max(peakFfmpeg, now.renders)
      peakOther = Math.max(peakOther, now.other)
    }
    if (now - lastMemory >= 1000) {
      memory.push({ done: seen.size, rss: rssOf(workerPid) })
      lastMemory = now
    }
    await sleep(100)
  }
  return { seen, memory, peakFfmpeg, peakOther }
}

/** Until the worker holds its lease (booted), so its CPU is counted from there. */
async function waitForLease(db) {
  for (let i = 0; i < 600; i++) {
    if (await db.from('worker_leases').where('expires_at', '>', new Date().toISOString().slice(0, 19).replace('T', ' ')).first()) return
    await sleep(100)
  }
}

async function checkBooks(db, ids) {
  const { default: walletService } = await import('#services/wallet_service')
  const runs = await db.from('runs').select('id', 'status')
  const statuses = {}
  for (const row of runs) statuses[row.status] = (statuses[row.status] ?? 0) + 1
  const ledger = await db
    .from('ledger_entries')
    .select('reference', 'action')
    .where('reference', 'like', '%:run:%')
  const used = new Map()
  let refunds = 0
  for (const row of ledger) {
    if (row.action === 'refund') refunds += 1
    if (row.action === 'used') used.set(row.reference, (used.get(row.reference) ?? 0) + 1)
  }
  const chargedOnce = ids.every((id) => used.get(`used:run:${id}`) === 1)
  const violations = await walletService.findInvariantViolations()
  return { statuses, chargedOnce, refunds, invariant: violations.length === 0 }
}

/** One pass against the fake: launch, watch, measure, check. */
async function hostedPass(label, webhooks, baseEnv, files, db, plan) {
  const fake = await startFake({ ...baseEnv, BENCH_OUTPUT: files.output, BENCH_APP_URL: `http://127.0.0.1:${port}` }, webhooks)
  const env = {
    ...baseEnv,
    GENERATION_PROVIDER: 'replicate',
    REPLICATE_API_TOKEN: fake.token,
    REPLICATE_API_URL: fake.url,
    REPLICATE_WEBHOOK_SECRET: webhooks ? fake.secret : '',
  }
  const { default: generationConfig } = await import('#config/generation')
  Object.assign(generationConfig.replicate, { apiToken: fake.token, baseUrl: fake.url })
  generationConfig.provider = 'replicate'

  const web = startProcess('web', ['--import=@poppinss/ts-exec', 'bin/server.ts'], { ...env, WORKER_IN_PROCESS: 'false' })
  await waitForHttp(`http://127.0.0.1:${port}/health`)
  const worker = startProcess('worker', [...workerFlags, 'ace.js', 'worker'], env)
  const launched = await launchAll(plan)
  console.log(`${label}: ${launched.ids.length} runs launched by ${plan.length} users in ${launched.seconds.toFixed(1)} s`)
  await waitForLease(db)
  const cpuAtStart = cpuOf(worker.child.pid)
  const { seen, memory } = await watch(db, launched.ids, worker.child.pid, (35 * SCALE + 600) * 1000)
  const workerCpu = cpuOf(worker.child.pid) - cpuAtStart
  const stats = await fake.stats()
  /* Reference: a bare download of one 5 MB output to disk, no app in between (same machine, same moment). */
  const reference = []
  const anyJob = Object.keys(stats.finished)[0]
  for (let i = 0; i < 5 && anyJob; i++) {
    const started = performance.now()
    const response = await fetch(`${fake.url}/files/${anyJob}/output.mp4`)
    if (!response.ok) {
      await response.arrayBuffer()
      continue
    }
    await pipeline(Readable.fromWeb(response.body), createWriteStream(`${work}/reference.mp4`))
    reference.push(performance.now() - started)
  }
  await worker.stop()
  await web.stop()
  fake.stop()

  const latencies = []
  const toWebhook = []
  for (const [, entry] of seen) {
    const doneAt = stats.finished[entry.job]
    if (entry.status === 'succeeded' && doneAt) latencies.push((entry.at - doneAt) / 1000)
    if (stats.hooked[entry.job] && doneAt) toWebhook.push((stats.hooked[entry.job] - doneAt) / 1000)
  }
  const books = await checkBooks(db, launched.ids)
  const quarter = (q) => memory[Math.min(memory.length - 1, Math.floor((memory.length - 1) * q))]?.rss ?? 0
  const result = {
    label,
    runs: launched.ids.length,
    finished: seen.size,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    max: Math.max(...latencies),
    referenceMs: reference.length ? percentile(reference, 50) : null,
    submits: stats.submits,
    providerJobs: stats.jobs,
    webhooks: stats.webhooks,
    statusCalls: stats.statusCalls,
    rss: [0.1, 0.25, 0.5, 0.75, 1].map(quarter),
    rssPeak: Math.max(...memory.map((m) => m.rss)),
    cpuMsPerRun: (workerCpu * 1000) / launched.ids.length,
    webhookP95: toWebhook.length ? percentile(toWebhook, 95) : null,
    ...books,
  }
  console.log(
    `${label}: ${result.finished}/${result.runs} finished ${JSON.stringify(result.statuses)}; provider-done → succeeded ` +
      `p50 ${result.p50.toFixed(2)} s, p95 ${result.p95.toFixed(2)} s, max ${result.max.toFixed(2)} s ` +
      `(bare 5 MB download ${result.referenceMs?.toFixed(0)} ms); submits ${result.submits}, provider jobs ${result.providerJobs}, ` +
      `webhooks ${result.webhooks}, status calls ${result.statusCalls}; charged once: ${result.chargedOnce}, ` +
      `refunds ${result.refunds}, invariant ${result.invariant}; worker RSS at 10/25/50/75/100 %: ` +
      `${result.rss.map(mb).join(' / ')} MB (peak ${mb(result.rssPeak)} MB); worker CPU ${result.cpuMsPerRun.toFixed(0)} ms per run; done → webhook answered p95 ${result.webhookP95?.toFixed(2) ?? '–'} s`
  )
  return result
}

async function localPass(baseEnv, db, plan) {
  const { default: generationConfig } = await import('#config/generation')
  generationConfig.provider = 'local'
  const env = { ...baseEnv, GENERATION_PROVIDER: 'local', LOCAL_MAX_RENDERS: '' }
  const worker = startProcess('worker', ['ace.js', 'worker'], env)
  const started = performance.now()
  const launched = await launchAll(plan)
  const { seen, peakFfmpeg, peakOther, memory } = await watch(db, launched.ids, worker.child.pid, 900_000, true)
  const seconds = (performance.now() - started) / 1000
  await worker.stop()
  const books = await checkBooks(db, launched.ids)
  const cap = Math.max(1, cpus().length - 1)
  const succeeded = [...seen.values()].filter((entry) => entry.status === 'succeeded').length
  const result = { runs: launched.ids.length, succeeded, seconds, peakFfmpeg, peakOther, cap, rssPeak: Math.max(...memory.map((m) => m.rss)), ...books }
  console.log(
    `local: ${succeeded}/${result.runs} succeeded in ${seconds.toFixed(1)} s; ffmpeg renders at once: peak ${peakFfmpeg} (cap ${cap}), ` +
      `other ffmpeg (poster frames) at once: peak ${peakOther}; ` +
      `charged once: ${books.chargedOnce}, invariant ${books.invariant}; worker RSS peak ${mb(result.rssPeak)} MB`
  )
  return result
}

async function main() {
  const files = await makeMedia()
  const dbPath = `${work}/bench.sqlite3`
  const storage = `${work}/storage`
  for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true })
  rmSync(storage, { recursive: true, force: true })
  const baseEnv = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    APP_URL: `http://127.0.0.1:${port}`,
    APP_KEY: process.env.APP_KEY || randomBytes(24).toString('base64url'),
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'error',
    DATABASE_PATH: dbPath,
    STORAGE_PATH: storage,
    DRIVE_DISK: 'fs',
    SESSION_DRIVER: 'cookie',
    MAIL_MAILER: 'dev',
    MAILBOX_PATH: `${work}/mailbox`,
    BIGQUERY_PROJECT_ID: '',
    WORKER_POLL_MS: String(POLL_MS),
    GENERATION_PROVIDER: 'local',
  }
  run('node', ['ace', 'migration:run', '--force'], baseEnv)
  const app = await bootApp(baseEnv)
  const db = await app.container.make('lucid.db')
  const load = loadavg()[0]
  const perUser = Math.ceil(RUNS / USERS)
  try {
    if (args.includes('--local-only')) {
      const localPlan = await seed(10, Math.ceil(LOCAL_RUNS / 10), files, storage)
      const local = await localPass(baseEnv, db, localPlan)
      reportLocal(local)
      if (local.succeeded !== local.runs || local.peakFfmpeg > local.cap) process.exitCode = 1
      return
    }
    const results = []
    for (const [label, webhooks] of [
      ['webhooks', true],
      ['polling only', false],
    ]) {
      await db.from('runs').delete()
      const plan = await seed(USERS, perUser, files, storage)
      results.push(await hostedPass(label, webhooks, baseEnv, files, db, plan))
    }
    await db.from('runs').delete()
    const localPlan = await seed(10, Math.ceil(LOCAL_RUNS / 10), files, storage)
    const local = await localPass(baseEnv, db, localPlan)
    report(results, local, load)
    const ok =
      results.every((r) => r.finished === r.runs && r.statuses.succeeded === r.runs && r.chargedOnce && r.invariant) &&
      local.succeeded === local.runs &&
      local.peakFfmpeg <= local.cap
    if (!ok) process.exitCode = 1
  } finally {
    await app.terminate()
  }
}

function localText(local) {
  return (
    `Local: ${local.succeeded}/${local.runs} runs through \`local\` in ${local.seconds.toFixed(0)} s, at most ` +
    `**${local.peakFfmpeg}** ffmpeg render(s) at once (cap LOCAL_MAX_RENDERS default = cores − 1 = ${local.cap}); ` +
    `other ffmpeg processes (poster frames of finished runs) at once: ${local.peakOther}; ` +
    `charged once: ${local.chargedOnce ? 'yes' : 'NO'}, ledger invariant ${local.invariant ? 'holds' : 'BROKEN'}, ` +
    `worker RSS peak ${mb(local.rssPeak)} MB.`
  )
}

/** `--local-only`: rewrites just the local paragraph of the section. */
function reportLocal(local) {
  const file = `${root}docs/benchmarks.md`
  const text = readFileSync(file, 'utf8')
  writeFileSync(file, text.replace(/^Local: [\s\S]*?MB\.$/m, localText(local)))
}

function report(results, local, load) {
  const row = (r) =>
    `| ${r.label} | ${r.statuses.succeeded ?? 0}/${r.runs} | ${r.p50.toFixed(2)} s | **${r.p95.toFixed(2)} s** | ${r.max.toFixed(2)} s | ` +
    `${(r.p95 / ((r.referenceMs ?? 1) / 1000)).toFixed(0)}× | ${r.submits} / ${r.providerJobs} | ${r.webhooks} | ${r.statusCalls} | ` +
    `${r.chargedOnce ? 'yes' : 'NO'} / ${r.refunds} / ${r.invariant ? 'holds' : 'BROKEN'} | ${r.rss.map(mb).join(' → ')} MB |`
  const [withHooks] = results
  updateBenchmarkSection(
    'Generation runs: 1,000 runs against a fake provider',
    `
\`npm run bench -- runs\` (bin/bench/runs.js): ${results[0].runs} runs launched by ${USERS} users (the real launch
transaction) against a fake Replicate (tests/fakes/replicate_server.ts) whose jobs finish after a random
${5 * SCALE}–${30 * SCALE} s with a ${mb(statSync(`${work}/output-5mb.mp4`).size)} MB MP4 output. Web server and
\`node ace worker\` as separate processes (NODE_ENV=production, fs disk, SQLite), WORKER_POLL_MS=${POLL_MS}, Replicate's
lane: 600 submits/min, ${32} steps in flight. "Done → succeeded" is from the moment the fake marks the job done to
the moment the bench sees the run \`succeeded\` in the database (sampled every 100 ms): status check, 5 MB copy into
storage, the MP4 check of the copy, the status write. Reference: a bare fetch of one output to disk (${withHooks.referenceMs?.toFixed(0)} ms).
${cpus().length} cores, load ${load.toFixed(1)} at start (shared machine).

| pass | succeeded | done → succeeded p50 | p95 | max | p95 / bare download | submits / provider jobs | webhooks | status calls | charged once / refunds / ledger | worker RSS at 10 → 25 → 50 → 75 → 100 % |
|---|---|---|---|---|---|---|---|---|---|---|
${results.map(row).join('\n')}

Targets: p95 < 2 s with webhooks; < one poll interval (${POLL_MS / 1000} s) + 2 s without. Worker memory flat: RSS
at each quarter of the run above.

${localText(local)}
`
  )
}

if (args.includes('--serve-fake')) {
  await serveFake()
} else {
  await main()
}
