/*
 * Page speed budget: builds the production app, starts it on 127.0.0.1,
 * and runs autocannon (20 connections) against the pages, each reported as
 * a share of a bare route of the same app measured in the same run. The
 * bare route is `GET /health` (the liveness probe: a constant JSON body),
 * which passes through the same global middleware as every page (static,
 * vite, request log, body parser, session, shield, auth, bouncer). Each
 * page is measured in slices that alternate with the bare route requested
 * the same way (anonymously, or with the page's session cookie), after a
 * warm-up of its own, so both see the same machine load.
 *
 * The signed-in user has 50 tasks with a run each and 1,000 applied ledger
 * rows (bin/bench/http/seed.js, through the app's services). Targets:
 * `/tasks` and `/usage` ≥ 50 % of the bare route, the task page's status
 * poll ≥ 80 %. Writes the table to docs/benchmarks.md ("Pages" section).
 *
 *   node bin/bench/http.js [--no-build] [--duration 9] [--connections 20] [--profile] [--only /usage]
 *
 * --profile starts the server with `node --cpu-prof` and writes its CPU
 * profile to tmp/bench-http-prof/ when the run ends (open it in Chrome
 * DevTools or speedscope). --only PATH measures that page only (with its
 * reference; `:id` for the task id), for a profile of one page; it does not
 * update the docs.
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
const duration = flag('duration', 9)
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

  const anonymousBare = { name: 'bare route', path: '/health', headers: {} }
  const signedInBare = { name: 'bare route, signed in', path: '/health', headers: signedIn }
  const pages = [
    { name: 'login page', path: '/login', headers: {} },
    { name: 'sign-up page', path: '/signup', headers: {} },
    { name: 'dashboard, 50 tasks with runs', path: '/tasks', headers: signedIn, target: 0.5 },
    { name: 'task page', path: `/tasks/${seeded.taskId}`, headers: signedIn },
    {
      name: 'task status poll (JSON)',
      path: `/tasks/${seeded.taskId}/status`,
      headers: signedIn,
      target: 0.8,
    },
    { name: `usage, ${seeded.ledgerRows} ledger rows`, path: '/usage', headers: signedIn, target: 0.5 },
  ].filter((page) => !only || page.path.replace(seeded.taskId, ':id') === only)

  /* One autocannon run; the server's CPU time over it, per request. */
  async function measure(route, seconds) {
    const cpuBefore = cpuMs(server.pid)
    const result = await autocannon({
      url: base + route.path,
      connections,
      duration: seconds,
      headers: route.headers,
    })
    return {
      requests: result.requests.total,
      seconds: result.duration,
      cpuMs: cpuMs(server.pid) - cpuBefore,
      errors: result.errors + result.non2xx,
      p50: result.latency.p50,
      p99: result.latency.p99,
    }
  }
  const warm = (route) =>
    autocannon({ url: base + route.path, connections, duration: 2, headers: route.headers })
  const add = (sum, part) => ({
    requests: sum.requests + part.requests,
    seconds: sum.seconds + part.seconds,
    cpuMs: sum.cpuMs + part.cpuMs,
    errors: sum.errors + part.errors,
  })
  const zero = { requests: 0, seconds: 0, cpuMs: 0, errors: 0 }
  const rate = (sum) => sum.requests / sum.seconds
  const cpuPerRequest = (sum) => (sum.cpuMs * 1000) / sum.requests

  /*
   * Each page is measured in slices alternating with its reference (the bare
   * route requested the same way: anonymous, or with the page's session), so
   * both see the same load from whatever else runs on the machine.
   */
  const slices = 3
  const sliceSeconds = Math.max(2, Math.round(duration / slices))
  await warm(anonymousBare)
  await warm(signedInBare)
  const anonymousTotal = { ...zero }
  const results = []
  for (const page of pages) {
    const reference = page.headers.cookie ? signedInBare : anonymousBare
    await warm(page)
    let pageSum = { ...zero }
    let referenceSum = { ...zero }
    let last
    for (let slice = 0; slice < slices; slice++) {
      referenceSum = add(referenceSum, await measure(reference, sliceSeconds))
      last = await measure(page, sliceSeconds)
      pageSum = add(pageSum, last)
    }
    if (page.headers.cookie) {
      Object.assign(anonymousTotal, add(anonymousTotal, await measure(anonymousBare, sliceSeconds)))
    } else {
      Object.assign(anonymousTotal, add(anonymousTotal, referenceSum))
    }
    /* One connection: no queueing, so the latency is the server's time per request. */
    const single = await autocannon({
      url: base + page.path,
      connections: 1,
      duration: 3,
      headers: page.headers,
    })
    const result = {
      ...page,
      path: page.path.replace(seeded.taskId, ':id'),
      rps: rate(pageSum),
      referenceRps: rate(referenceSum),
      share: rate(pageSum) / rate(referenceSum),
      cpu: cpuPerRequest(pageSum),
      referenceCpu: cpuPerRequest(referenceSum),
      p50: last.p50,
      p99: last.p99,
      singleP50: single.latency.p50,
      singleP99: single.latency.p99,
      errors: pageSum.errors + referenceSum.errors + single.errors + single.non2xx,
    }
    results.push(result)
    console.log(
      `${page.name}: ${Math.round(result.rps)} req/s vs ${Math.round(result.referenceRps)} (${reference.name}) = ${Math.round(result.share * 100)} %; CPU ${Math.round(result.cpu)} vs ${Math.round(result.referenceCpu)} µs/request`
    )
  }

  const percent = (value) => `${Math.round(value * 100)} %`
  const anonymousRps = rate(anonymousTotal)
  const verdicts = results
    .filter((r) => r.target !== undefined)
    .map((r) => ({ r, ok: r.share >= r.target }))
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} on this machine (${cpus().length} cores, load ${loadavg()[0].toFixed(1)} at the end), production build, autocannon ${connections} connections. Every route is warmed up on its own for 2 s, then measured in ${slices} slices of ${sliceSeconds} s that alternate with its reference, so the page and its reference see the same load from the rest of the machine. Latency is end to end over loopback; autocannon runs on the same cores. "Server CPU" is the server process's user + system time during the measured slices divided by the requests served.`,
    '',
    'The reference is the bare route `GET /health` (the liveness probe: a constant JSON body through the same global middleware as every page), requested the same way as the page: anonymously for the anonymous pages, and with the signed-in user\'s session cookie for the signed-in pages. With the cookie the global middleware does for the bare route what it does for every signed-in page (decrypt the session, load the user, check the session, renew the cookie), so the share is what the page itself costs on top of the framework\'s per-request work. The last column but three compares with the anonymous bare route instead.',
    '',
    `The signed-in user has 50 tasks with one run each and ${seeded.ledgerRows} applied ledger rows (bin/bench/http/seed.js, through the services). The anonymous bare route averaged ${Math.round(anonymousRps)} req/s over the run (${Math.round(cpuPerRequest(anonymousTotal))} µs CPU per request).`,
    '',
    `| route | requests/s (${connections} conn.) | its reference, same slices | share of reference | target | share of anonymous bare route | server CPU µs/request (reference) | p50 / p99 ms (${connections} conn.) | p50 / p99 ms (1 conn.) | errors/non-2xx |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map((r) => {
      const verdict =
        r.target === undefined ? '' : `≥ ${percent(r.target)} ${r.share >= r.target ? '✓' : '✗'}`
      const reference = r.headers.cookie ? 'signed in' : 'anonymous'
      return `| ${r.name} (\`${r.path}\`) | ${Math.round(r.rps)} | ${Math.round(r.referenceRps)} (${reference}) | ${percent(r.share)} | ${verdict} | ${percent(r.rps / anonymousRps)} | ${Math.round(r.cpu)} (${Math.round(r.referenceCpu)}) | ${r.p50} / ${r.p99} | ${r.singleP50} / ${r.singleP99} | ${r.errors} |`
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
