/*
 * Page render speed: builds the production app, starts it on 127.0.0.1,
 * and runs autocannon (20 connections, 10 s) against the login, sign-up and
 * dashboard pages. Prints requests/s and p50/p99 latency, and writes them to
 * docs/benchmarks.md ("Pages" section).
 *
 *   node bin/bench/http.js [--no-build] [--duration 10] [--connections 20]
 */
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
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
const port = 3390
const base = `http://127.0.0.1:${port}`
const database = `${process.cwd()}/tmp/bench-http.sqlite3`

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

function run(cmd, cmdArgs, options = {}) {
  const result = spawnSync(cmd, cmdArgs, { stdio: 'inherit', env, ...options })
  if (result.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed`)
}

if (!args.includes('--no-build')) run('node', ['ace', 'build'])
for (const suffix of ['', '-wal', '-shm']) rmSync(database + suffix, { force: true })
run('node', ['ace.js', 'migration:run', '--force'], { cwd: 'build' })

const server = spawn('node', ['bin/server.js'], { cwd: 'build', env, stdio: 'inherit' })
try {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if ((await fetch(`${base}/login`)).ok) break
    } catch {}
    await sleep(100)
  }

  /* A signed-in user for the dashboard, through the real sign-up + activation + login path. */
  const cookie = await signUpAndLogIn()
  const results = []
  for (const [name, path, headers] of [
    ['login page', '/login', {}],
    ['sign-up page', '/signup', {}],
    ['dashboard (signed in)', '/tasks', { cookie }],
  ]) {
    // Warm-up, then the measured run.
    await autocannon({ url: base + path, connections, duration: 2, headers })
    const result = await autocannon({ url: base + path, connections, duration, headers })
    /* One connection: no queueing, so the latency is the server's time per request. */
    const single = await autocannon({ url: base + path, connections: 1, duration: 5, headers })
    results.push({
      name,
      path,
      rps: Math.round(result.requests.average),
      p50: result.latency.p50,
      p99: result.latency.p99,
      singleP50: single.latency.p50,
      singleP99: single.latency.p99,
      errors: result.errors + result.non2xx + single.errors + single.non2xx,
    })
  }

  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} on this machine (${(await import('node:os')).cpus().length} cores), production build, autocannon ${connections} connections × ${duration} s per page, after a 2 s warm-up. Latency is end to end over loopback.`,
    '',
    `| page | requests/s (${connections} conn.) | p50 / p99 ms (${connections} conn.) | p50 / p99 ms (1 conn.) | errors/non-2xx |`,
    '| --- | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.name} (\`${r.path}\`) | ${r.rps} | ${r.p50} / ${r.p99} | ${r.singleP50} / ${r.singleP99} | ${r.errors} |`
    ),
    '',
    `Target: under 20 ms server time per page (p50, warm). With ${connections} connections on 2 cores`,
    'the latency is mostly queueing (connections ÷ requests/s); the 1-connection column is the time',
    'one request takes end to end with nothing queued ahead of it. autocannon runs on the same 2 cores.',
  ]
  console.log(lines.join('\n'))
  updateBenchmarkSection('Pages', lines.join('\n'))
} finally {
  server.kill('SIGTERM')
}

/* Signs up, activates through the mailed link, logs in; returns the session cookies. */
async function signUpAndLogIn() {
  const jar = new Map()
  const keep = (response) => {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';')
      const at = pair.indexOf('=')
      jar.set(pair.slice(0, at), pair.slice(at + 1))
    }
  }
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  const csrf = async (path) => {
    const response = await fetch(base + path, { headers: { cookie: cookieHeader() } })
    keep(response)
    return (await response.text()).match(/name='_csrf' value='([^']+)'/)[1]
  }
  const post = async (path, form) => {
    const token = await csrf(path)
    const response = await fetch(base + path, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'cookie': cookieHeader() },
      body: new URLSearchParams({ _csrf: token, ...form }),
    })
    keep(response)
    return response
  }
  const password = 'bench password 1'
  await post('/signup', { email: 'bench@example.com', password, passwordConfirmation: password })
  const { readdirSync, readFileSync } = await import('node:fs')
  const dir = env.MAILBOX_PATH
  const mail = readdirSync(dir)
    .sort()
    .reverse()
    .map((name) => JSON.parse(readFileSync(`${dir}/${name}`, 'utf8')))
    .find((m) => m.to.includes('bench@example.com'))
  const link = mail.text.match(/https?:\/\/\S+\/activate\/\S+/)[0]
  await fetch(link, { redirect: 'manual' })
  const login = await post('/login', { email: 'bench@example.com', password })
  if (login.headers.get('location') !== '/tasks') throw new Error('bench login failed')
  return cookieHeader()
}
