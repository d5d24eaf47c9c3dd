/*
 * Upload throughput and memory: a 1 GB video (real media: raw frames in
 * Matroska, made by ffmpeg once and cached) is uploaded through the real
 * HTTP endpoint (multipart, as the browser sends it) to the app running on
 * 127.0.0.1, and compared with a plain `cp` of the same file on this
 * machine, measured in the same run. The server's RSS is sampled during the
 * upload; its growth over the idle baseline is reported. Writes the
 * "Uploads" section of docs/benchmarks.md.
 *
 *   node bin/bench/upload.js [--size-mb 1024]
 */
import { spawn, spawnSync } from 'node:child_process'
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs'
import { request } from 'node:http'
import { cpus, loadavg } from 'node:os'
import { pipeline } from 'node:stream/promises'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { updateBenchmarkSection } from './report.js'

const args = process.argv.slice(2)
const flag = (name, fallback) => {
  const index = args.indexOf(`--${name}`)
  return index === -1 ? fallback : Number(args[index + 1])
}
const sizeMb = flag('size-mb', 1024)
const port = 3391
const base = `http://127.0.0.1:${port}`
const work = `${process.cwd()}/tmp/bench-upload`
const source = `${work}/source-${sizeMb}mb.mkv`
const MB = 1024 * 1024

const env = {
  ...process.env,
  NODE_ENV: 'production',
  PORT: String(port),
  HOST: '127.0.0.1',
  APP_URL: base,
  LOG_LEVEL: 'warn',
  DATABASE_PATH: `${work}/bench.sqlite3`,
  SESSION_DRIVER: 'cookie',
  MAIL_MAILER: 'dev',
  MAILBOX_PATH: `${work}/mailbox`,
  STORAGE_PATH: `${work}/storage`,
  DRIVE_DISK: 'fs',
  WORKER_IN_PROCESS: 'false',
  GENERATION_PROVIDER: 'local',
  /* Room for the 1 GB file (the product limit is 500 MB). */
  UPLOAD_MAX_VIDEO_MB: String(sizeMb + 64),
}

function run(cmd, cmdArgs, options = {}) {
  const result = spawnSync(cmd, cmdArgs, { stdio: 'inherit', env, ...options })
  if (result.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed`)
}

/** ~sizeMb of uncompressed 720p frames: a real video that ffprobe accepts, made fast. */
function makeSource() {
  mkdirSync(work, { recursive: true })
  if (existsSync(source) && statSync(source).size >= sizeMb * MB * 0.99) return
  const frameBytes = 1280 * 720 * 1.5
  const frames = Math.ceil((sizeMb * MB) / frameBytes)
  console.log(`making ${source} (${frames} raw 720p frames)…`)
  run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=1280x720:rate=25',
    '-frames:v',
    String(frames),
    '-c:v',
    'rawvideo',
    '-pix_fmt',
    'yuv420p',
    '-f',
    'matroska',
    source,
  ])
}

/** CPU seconds (user + system) the process has used so far. */
function cpuOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return ticks / Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim() || 100)
}

function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024
}

async function readAll(path) {
  await pipeline(createReadStream(path), new Writable({ write: (_chunk, _enc, done) => done() }))
}

function timeCp() {
  const target = `${work}/cp-copy.mkv`
  rmSync(target, { force: true })
  const started = process.hrtime.bigint()
  run('cp', [source, target])
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  rmSync(target, { force: true })
  return seconds
}

/* The same copy through userspace read/write calls (what a server has to do), for reference. */
function timeDd() {
  const target = `${work}/dd-copy.mkv`
  rmSync(target, { force: true })
  const started = process.hrtime.bigint()
  run('dd', [`if=${source}`, `of=${target}`, 'bs=64K', 'status=none'])
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  rmSync(target, { force: true })
  return seconds
}

makeSource()
const bytes = statSync(source).size
/* Source in the page cache for both measurements. */
await readAll(source)
await readAll(source)
const cpSeconds = Math.min(timeCp(), timeCp())
const ddSeconds = Math.min(timeDd(), timeDd())

rmSync(env.STORAGE_PATH, { recursive: true, force: true })
rmSync(env.MAILBOX_PATH, { recursive: true, force: true })
for (const suffix of ['', '-wal', '-shm']) rmSync(env.DATABASE_PATH + suffix, { force: true })
run('node', ['ace', 'migration:run', '--force'], { stdio: 'ignore' })

const server = spawn(process.execPath, ['--import=@poppinss/ts-exec', 'bin/server.ts'], {
  env,
  stdio: 'inherit',
})
try {
  for (let attempt = 0; attempt < 300; attempt++) {
    try {
      if ((await fetch(`${base}/login`)).ok) break
    } catch {}
    await sleep(100)
  }
  const session = await signUpAndLogIn()
  const taskId = await createTask(session)
  const csrf = await session.csrf(`/tasks/${taskId}`)

  /* Warm-up: a small upload loads every module the upload path uses. */
  const small = `${work}/warmup.mkv`
  if (!existsSync(small)) {
    run('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x120:rate=10',
      '-t',
      '1',
      '-c:v',
      'rawvideo',
      '-f',
      'matroska',
      small,
    ])
  }
  const warm = await upload(session, csrf, taskId, small)
  if (warm.status !== 201) throw new Error(`warm-up upload answered ${warm.status}: ${warm.body}`)
  global.gc?.()
  await sleep(500)

  const baseline = rssOf(server.pid)
  let peak = baseline
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(server.pid))
    } catch {}
  }, 20)
  const cpuBefore = cpuOf(server.pid)
  const started = process.hrtime.bigint()
  const result = await upload(session, csrf, taskId, source)
  const uploadSeconds = Number(process.hrtime.bigint() - started) / 1e9
  clearInterval(sampler)
  const serverCpu = cpuOf(server.pid) - cpuBefore
  peak = Math.max(peak, rssOf(server.pid))
  if (result.status !== 201) throw new Error(`upload answered ${result.status}: ${result.body}`)
  const stored = JSON.parse(result.body).input

  const uploadMbps = bytes / MB / uploadSeconds
  const cpMbps = bytes / MB / cpSeconds
  const growthMb = (peak - baseline) / MB
  const ratio = uploadMbps / cpMbps
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} on this machine (${cpus().length} cores), one run of \`node bin/bench/upload.js\` (\`npm run bench -- upload\`).`,
    `A ${(bytes / MB).toFixed(0)} MB video (raw 720p frames in Matroska, ${stored.duration}) is POSTed as multipart/form-data to \`/tasks/:id/inputs/video\` on the app (ts-exec, NODE_ENV=production, fs disk) over 127.0.0.1; the time includes streaming to the staging file, the type sniff, ffprobe and the move into storage. \`cp\` copies the same file (in the page cache) on the same disk.`,
    '',
    '| | time (s) | throughput (MB/s) |',
    '| --- | ---: | ---: |',
    `| \`cp\` (best of 2) | ${cpSeconds.toFixed(2)} | ${cpMbps.toFixed(0)} |`,
    `| \`dd bs=64K\` (read/write in userspace, best of 2; reference) | ${ddSeconds.toFixed(2)} | ${(bytes / MB / ddSeconds).toFixed(0)} |`,
    `| HTTP upload | ${uploadSeconds.toFixed(2)} | ${uploadMbps.toFixed(0)} |`,
    '',
    `- Upload throughput = **${(ratio * 100).toFixed(0)}%** of \`cp\` (target ≥ 50%).`,
    `- The server spent ${serverCpu.toFixed(1)} CPU-seconds on the upload (${(bytes / MB / serverCpu).toFixed(0)} MB per CPU-second): the rate it could reach with a core to itself.`,
    `- Load average during the run: ${loadavg()[0].toFixed(1)} on ${cpus().length} cores.`,
    `- Server RSS: ${(baseline / MB).toFixed(0)} MB idle after a warm-up upload, peak ${(peak / MB).toFixed(0)} MB during the upload: growth **${growthMb.toFixed(1)} MB** (target < 100 MB).`,
    '- The machine runs other work at the same time (2 cores shared); numbers move between runs.',
  ]
  console.log(lines.join('\n'))
  updateBenchmarkSection('Uploads', lines.join('\n'))
  if (ratio < 0.5 || growthMb >= 100) process.exitCode = 1
} finally {
  server.kill('SIGTERM')
}

/** Streams a file as multipart/form-data, like the task page's upload form. */
function upload(session, csrf, taskId, path) {
  const boundary = `----vgenbench${Date.now()}`
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.mkv"\r\nContent-Type: video/x-matroska\r\n\r\n`
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const size = statSync(path).size
  return new Promise((resolve, reject) => {
    const req = request(`${base}/tasks/${taskId}/inputs/video`, {
      method: 'POST',
      headers: {
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        'Content-Length': String(head.length + size + tail.length),
        'Accept': 'application/json',
        'Cookie': session.cookie(),
        'X-CSRF-Token': csrf,
      },
    })
    req.on('error', reject)
    req.on('response', (res) => {
      let body = ''
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode, body }))
    })
    req.write(head)
    const file = createReadStream(path, { highWaterMark: 1024 * 1024 })
    file.pipe(req, { end: false })
    file.on('end', () => req.end(tail))
    file.on('error', reject)
  })
}

async function createTask(session) {
  const response = await session.post('/tasks/new', '/tasks', {
    name: 'Upload bench',
    model: 'restyle',
  })
  const location = response.headers.get('location')
  if (!location?.startsWith('/tasks/')) throw new Error('bench: task not created')
  return location.split('/').pop()
}

/* Signs up, activates through the mailed link, logs in; returns a tiny cookie session. */
async function signUpAndLogIn() {
  const jar = new Map()
  const keep = (response) => {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';')
      const index = pair.indexOf('=')
      jar.set(pair.slice(0, index), pair.slice(index + 1))
    }
  }
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  const csrf = async (path) => {
    const response = await fetch(base + path, { headers: { cookie: cookie() } })
    keep(response)
    return (await response.text()).match(/name='_csrf' value='([^']+)'/)[1]
  }
  const post = async (formPath, path, form) => {
    /* The token first: fetching the form may set the session cookie the POST must carry. */
    const token = await csrf(formPath)
    const response = await fetch(base + path, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'cookie': cookie() },
      body: new URLSearchParams({ _csrf: token, ...form }),
    })
    keep(response)
    return response
  }
  const session = { cookie, csrf, post }
  const password = 'bench password 1'
  await post('/signup', '/signup', {
    email: 'upload-bench@example.com',
    password,
    passwordConfirmation: password,
  })
  const dir = env.MAILBOX_PATH
  const mail = readdirSync(dir)
    .sort()
    .reverse()
    .map((name) => JSON.parse(readFileSync(`${dir}/${name}`, 'utf8')))
    .find((m) => m.to.includes('upload-bench@example.com'))
  const link = mail.text.match(/https?:\/\/\S+\/activate\/\S+/)[0]
  await fetch(link, { redirect: 'manual' })
  const login = await post('/login', '/login', { email: 'upload-bench@example.com', password })
  if (login.headers.get('location') !== '/tasks') throw new Error('bench login failed')
  return session
}
