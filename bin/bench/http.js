/*
 * Page speed budget: builds the production app, starts it on 127.0.0.1,
 * and runs autocannon (20 connections, 10 s) against the pages, each
 * reported as a ratio of a bare route of the same app measured in the same
 * run. The bare route is `GET /health` (the liveness probe: a constant JSON
 * body), which passes through the same global middleware as every page
 * (static, vite, request log, body parser, session, shield, auth, bouncer);
 * it is measured three times (first, middle, last) and the pages are
 * compared with the mean. Every route is warmed up on its own first.
 *
 * The signed-in user has 50 tasks with a run each and 1,000 applied ledger
 * rows (bin/bench/http/seed.js, through the app's services). Targets:
 * `/tasks` and `/usage` ≥ 50 % of the bare route, the task page's status
 * poll ≥ 80 %. Writes the table to docs/benchmarks.md ("Pages" section).
 *
 *   node bin/bench/http.js [--no-build] [--duration 10] [--connections 20] [--profile] [--only /usage]
 *
 * --profile starts the server with `node --cpu-prof` and writes its CPU
 * profile to tmp/bench-http-prof/ when the run ends (open it in Chrome
 * DevTools or speedscope). --only PATH measures the bare route and that page
 * only (for a profile of one page); it does not update the docs.
 */
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { updateBenchmarkSection } from './report.js'

const args = process.argv.slice(2)
const flag = (name, fallback) => {
  const index = args.indexOf(`--${name}`)
  return index === -1 ? fallback : Number(args[index + 1])
}
const duration = flag('duration', 10)
const connections = flag('connections', 20)
const profile = args.includes('--profile')
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null
const port = 3390
const base = `http://127.0.0.1:${port}`
const database = `${process.cwd()}/tmp/bench-http.sqlite3`
const email = 'bench@example.com'
const password = 'bench password 1'

/* The build folder has no .env: take APP_KEY from the checkout's .env (bin/setup made it). */
const appKey = readFileSync('.env', 'utf8').match(/^APP_KEY=(.+)$/m)?.[1]

const env = {
  ...process.env,
  APP_KEY: appKey,
  NODE_ENV: 'production',
  PORT: String(port),
  HOST: '127.0.0.1',
  APP_URL: base,
  LOG_LEVEL: 'warn',
  DATABASE_PATH: database,
  SESSION_DRIVER: 'cookie',
  MAIL_MAILER: 'dev',
  MAILBOX_PATH: `${process.cwd()}/tmp/bench-mailbox`,
  STORAGE_PATH: `${process.cwd()}/tmp/bench-storage`,
  WORKER_IN_PROCESS: 'false',
}

/* CPU time of a process so far (user + system, ms), from /proc: robust against the load of other processes. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return Number.NaN
  }
}

function run(cmd, cmdArgs, options = {}) {
  const result = spawnSync(cmd, cmdArgs, { stdio: 'inherit', env, ...options })
  if (result.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed`)
  return result
}

if (!args.includes('--no-build')) run('node', ['ace', 'build'])
for (const suffix of ['', '-wal', '-shm']) rmSync(database + suffix, { force: true })
run('node', ['ace.js', 'migration:run', '--force'], { cwd: 'build' })

const nodeArgs = profile
  ? ['--cpu-prof', `--cpu-prof-dir=${process.cwd()}/tmp/bench-http-prof`, 'bin/server.js']
  : ['bin/server.js']
const server = spawn('node', nodeArgs, { cwd: 'build', env, stdio: 'inherit' })
try {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if ((await fetch(`${base}/health`)).ok) break
    } catch {}
    await sleep(100)
  }

  /* A user and its data through the services, then a real login through the form. */
  const seeded = JSON.parse(
    run('node', ['bin/bench/http/seed.js', email, password], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
      .stdout.toString()
      .trim()
      .split('\n')
      .pop()
  )
  const signedIn = { cookie: await logIn() }

  const bare = ['bare route', '/health', {}]
  const signedInBare = ['bare route, signed in', '/health', signedIn]
  const routes = [
    bare,
    ['login page', '/login', {}],
    ['sign-up page', '/signup', {}],
    ['dashboard, 50 tasks with runs', '/tasks', signedIn],
    bare,
    signedInBare,
    ['task page', `/tasks/${seeded.taskId}`, signedIn],
    ['task status poll (JSON)', `/tasks/${seeded.taskId}/status`, signedIn],
    [`usage, ${seeded.ledgerRows} ledger rows`, '/usage', signedIn],
    signedInBare,
    bare,
  ]
  const measured = only
    ? routes.filter(([name, path]) => name.startsWith(bare[0]) || path.replace(seeded.taskId, ':id') === only)
    : routes
  const targets = {
    '/tasks': 0.5,
    '/usage': 0.5,
    [`/tasks/${seeded.taskId}/status`]: 0.8,
  }

  const results = []
  for (const [name, path, headers] of measured) {
    /* Warm-up of this route on its own (JIT, template and query caches), then the measured run. */
    await autocannon({ url: base + path, connections, duration: 2, headers })
    const cpuBefore = cpuMs(server.pid)
    const result = await autocannon({ url: base + path, connections, duration, headers })
    const cpuPerRequest = ((cpuMs(server.pid) - cpuBefore) * 1000) / result.requests.total
    /* One connection: no queueing, so the latency is the server's time per request. */
    const single = await autocannon({ url: base + path, connections: 1, duration: 3, headers })
    results.push({
      name,
      path,
      signedIn: Boolean(headers.cookie),
      rps: result.requests.average,
      cpuPerRequest,
      p50: result.latency.p50,
      p99: result.latency.p99,
      singleP50: single.latency.p50,
      singleP99: single.latency.p99,
      errors: result.errors + result.non2xx + single.errors + single.non2xx,
    })
    console.log(`${name}: ${Math.round(result.requests.average)} req/s, ${Math.round(cpuPerRequest)} µs CPU/request`)
  }

  const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length
  const reference = (name) => {
    const rounds = results.filter((r) => r.name === name)
    return {
      rps: rounds.map((r) => r.rps),
      cpu: rounds.map((r) => r.cpuPerRequest),
      mean: mean(rounds.map((r) => r.rps)),
    }
  }
  const anonymous = reference(bare[0])
  const signedInRef = reference(signedInBare[0])
  const percent = (value) => `${Math.round(value * 100)} %`
  const pages = results.filter((r) => !r.name.startsWith(bare[0]))
  /* A page is held against the bare route requested the same way (with or without the session). */
  const matching = (r) => (r.signedIn ? signedInRef : anonymous)
  const verdicts = pages
    .filter((r) => targets[r.path] !== undefined)
    .map((r) => ({ r, ok: r.rps / matching(r).mean >= targets[r.path] }))
  const rounds = (ref) =>
    `${ref.rps.map((rps) => Math.round(rps)).join(', ')} req/s (mean **${Math.round(ref.mean)}**; server CPU ${ref.cpu.map((cpu) => Math.round(cpu)).join(', ')} µs/request)`

  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} on this machine (${cpus().length} cores, load ${loadavg()[0].toFixed(1)} at the end), production build, autocannon ${connections} connections × ${duration} s per route, each route warmed up on its own for 2 s first. Latency is end to end over loopback; autocannon runs on the same cores. "Server CPU" is the server process's user + system time during the measured run divided by the requests served: it moves much less than requests/s when other work shares the machine.`,
    '',
    'The reference is the bare route `GET /health` (the liveness probe: a constant JSON body, through the same global middleware as every page), measured in the same run:',
    `- anonymous, three rounds (first, middle, last): ${rounds(anonymous)};`,
    `- with the signed-in user's session cookie, two rounds: ${rounds(signedInRef)}. The global middleware then does what it does for every signed-in page (decrypt the session, load the user, check the session, renew the cookie).`,
    '',
    `Each page is shown as a share of both; the targets are checked against the bare route requested the same way (signed-in pages against the signed-in bare route). The signed-in user has 50 tasks with one run each and ${seeded.ledgerRows} applied ledger rows.`,
    '',
    `| route | requests/s (${connections} conn.) | share of bare route (anonymous) | share of bare route (same session) | target | server CPU µs/request | p50 / p99 ms (${connections} conn.) | p50 / p99 ms (1 conn.) | errors/non-2xx |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...pages.map((r) => {
      const target = targets[r.path]
      const path = r.path.replace(seeded.taskId, ':id')
      const share = r.rps / matching(r).mean
      const verdict = target === undefined ? '' : `≥ ${percent(target)} ${share >= target ? '✓' : '✗'}`
      return `| ${r.name} (\`${path}\`) | ${Math.round(r.rps)} | ${percent(r.rps / anonymous.mean)} | ${percent(share)} | ${verdict} | ${Math.round(r.cpuPerRequest)} | ${r.p50} / ${r.p99} | ${r.singleP50} / ${r.singleP99} | ${r.errors} |`
    }),
    '',
    'Run it with `npm run bench -- http`; `node bin/bench/http.js --profile` also writes a CPU',
    'profile of the server (tmp/bench-http-prof/) to see where the time goes.',
  ]
  console.log(lines.join('\n'))
  if (!only) updateBenchmarkSection('Pages', lines.join('\n'))
  if (verdicts.some((v) => !v.ok)) process.exitCode = 1
} finally {
  server.kill('SIGTERM')
  await new Promise((resolve) => server.once('exit', resolve))
}

/* Logs in through the login form (the seed signed the user up); returns the session cookies. */
async function logIn() {
  const jar = new Map()
  const keep = (response) => {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';')
      const at = pair.indexOf('=')
      jar.set(pair.slice(0, at), pair.slice(at + 1))
    }
  }
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  const page = await fetch(`${base}/login`)
  keep(page)
  const token = (await page.text()).match(/name='_csrf' value='([^']+)'/)[1]
  const login = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'cookie': cookieHeader() },
    body: new URLSearchParams({ _csrf: token, email, password }),
  })
  keep(login)
  if (login.headers.get('location') !== '/tasks') throw new Error('bench login failed')
  return cookieHeader()
}
