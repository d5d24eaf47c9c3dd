/*
 * Resumable uploads (tus, /uploads) against the raw PUT path, in one run,
 * on the app over 127.0.0.1 (fs disk, NODE_ENV=production, --expose-gc):
 *
 *   1. throughput: a 1 GB video (raw 720p frames in Matroska, made by ffmpeg
 *      once) through tus (POST /uploads, then one PATCH with the whole file)
 *      and through the raw PUT, alternating, several rounds, both sent by
 *      curl. Time from the first byte to the answer (sniff, ffprobe and the
 *      rename into storage included). Server RSS sampled every 20 ms.
 *   2. cut connections: a 500 MB upload through a local TCP proxy that cuts
 *      the connection three times (after every ~125 MB it forwarded); the
 *      client resumes like tus-js-client (HEAD for the offset, PATCH from
 *      there). Reports the bytes the proxy received from the client beyond
 *      the file's size (sent twice).
 *   3. 20 concurrent 100 MB tus uploads, each from a different user.
 *
 * Writes the "Resumable uploads" section of docs/benchmarks.md and prints
 * whether the targets are met; exits 0 either way (a benchmark, not a test).
 *
 * `--disk s3` (what `npm run bench -- uploads-s3` runs): the same app on
 * DRIVE_DISK=s3 against the local S3 server of the tests (s3rver plus the
 * multipart calls it lacks), tus (multipart upload straight into the bucket)
 * against the raw PUT (staged locally, then one checked PutObject); parts 1
 * and 2 only, plus the largest amount the app's temp folder held at once.
 * Writes the "Resumable uploads on S3" section.
 *
 * `--disk gcs` (`npm run bench -- uploads-gcs`): the same on DRIVE_DISK=gcs
 * against the tests' GCS fake (it keeps objects in memory): tus (each PATCH
 * a patch object composed onto the upload's object) against the raw PUT
 * (staged locally, then a checked resumable upload). Writes the
 * "Resumable uploads on GCS" section.
 *
 *   node bin/bench/uploads.js [--size-mb 1024] [--rounds 2] [--users 20] [--disk fs|s3|gcs]
 */
import { spawn } from 'node:child_process'
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { request } from 'node:http'
import { cpus, loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { updateBenchmarkSection } from './report.js'
import {
  appEnv,
  formSession,
  makeSource,
  MB,
  median,
  optionFrom,
  rssOf,
  runnerWith,
} from './upload_kit.js'

const args = process.argv.slice(2)
const option = optionFrom(args)
const sizeMb = Number(option('size-mb', 1024))
const rounds = Number(option('rounds', 2))
const users = Number(option('users', 20))
const disk = option('disk', 'fs')
const onS3 = disk === 's3'
const onGcs = disk === 'gcs'
/* A bucket disk: the 200 MB file doubles as the cut-connection one; no concurrency round. */
const onBucket = onS3 || onGcs
const port = 3393
const proxyPort = port + 1
const base = `http://127.0.0.1:${port}`
const work = `${process.cwd()}/tmp/bench-uploads`
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef0123456789'

const env = appEnv({
  port,
  work,
  extra: {
    /* The server's temp folder, measured on S3 (where the tus store buffers parts). */
    TMPDIR: `${work}/server-tmp`,
    ADMIN_TOKEN,
    TRUSTED_PROXIES: '127.0.0.1',
    /* Room for the 1 GB file (the product limit is 500 MB). */
    UPLOAD_MAX_VIDEO_MB: String(Math.max(sizeMb, 500) + 64),
    /* Logins of 20 users from one address in a few seconds. */
    LIMITER_STORE: 'memory',
  },
})
const run = runnerWith(env)

/**
 * A cookie session of one user (signed up, activated through the admin API,
 * logged in), from its own client address (X-Forwarded-For from the trusted
 * local proxy), so 20 sign-ups are not one client hitting the rate limits.
 */
async function userSession(email, ip) {
  const { cookie, csrf, post } = formSession(base, { 'x-forwarded-for': ip })
  const password = 'bench password 1'
  await post('/signup', '/signup', { email, password, passwordConfirmation: password })
  const admin = { 'authorization': `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }
  const found = await (
    await fetch(`${base}/api/internal/user?email=${encodeURIComponent(email)}`, { headers: admin })
  ).json()
  await fetch(`${base}/api/internal/user`, {
    method: 'PUT',
    headers: admin,
    body: JSON.stringify({ userID: found.userID, status: 'activated' }),
  })
  const login = await post('/login', '/login', { email, password })
  if (login.headers.get('location') !== '/tasks') throw new Error(`bench: ${email} not logged in`)
  const created = await post('/tasks/new', '/tasks', { name: 'Upload bench', model: 'restyle' })
  const taskId = created.headers.get('location').split('/').pop()
  return { cookie, taskId, csrf: await csrf(`/tasks/${taskId}`) }
}

const b64 = (value) => Buffer.from(value).toString('base64')

/** POST /uploads; returns the upload's URL. */
async function tusCreate(session, size, origin = base) {
  const response = await fetch(`${origin}/uploads`, {
    method: 'POST',
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Length': String(size),
      'Upload-Metadata': `task ${b64(session.taskId)},kind ${b64('video')},filename ${b64('bench.mkv')}`,
      'Cookie': session.cookie(),
      'X-CSRF-Token': session.csrf,
    },
  })
  if (response.status !== 201)
    throw new Error(`creation: ${response.status} ${await response.text()}`)
  return origin + response.headers.get('location')
}

/** One curl request streaming `file` as the body; resolves with { status, body }. */
function curl(method, url, session, headers, file) {
  const headerArgs = Object.entries({
    'Cookie': session.cookie(),
    'X-CSRF-Token': session.csrf,
    'Accept': 'application/json',
    'Expect': '',
    ...headers,
  }).flatMap(([name, value]) => ['-H', `${name}: ${value}`])
  return new Promise((resolve, reject) => {
    const child = spawn(
      'curl',
      ['-sS', '-o', '-', '-w', '\n%{http_code}', '-X', method, ...headerArgs, '-T', file, url],
      { stdio: ['ignore', 'pipe', 'inherit'] }
    )
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.on('error', reject)
    child.on('exit', () => {
      const index = output.lastIndexOf('\n')
      resolve({ status: Number(output.slice(index + 1)), body: output.slice(0, index) })
    })
  })
}

async function tusUpload(session, file) {
  const url = await tusCreate(session, statSync(file).size)
  return curl(
    'PATCH',
    url,
    session,
    {
      'Tus-Resumable': '1.0.0',
      'Upload-Offset': '0',
      'Content-Type': 'application/offset+octet-stream',
    },
    file
  )
}

function rawUpload(session, file) {
  return curl(
    'PUT',
    `${base}/tasks/${session.taskId}/inputs/video`,
    session,
    {
      'Content-Type': 'application/octet-stream',
      'X-File-Name': 'bench.mkv',
    },
    file
  )
}

/** Runs `fn` while sampling the server's RSS; returns its result, seconds and peak growth. */
async function measured(pid, fn) {
  await sleep(1000)
  const baseline = rssOf(pid)
  let peak = baseline
  let temp = 0
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid))
      temp = Math.max(temp, tempBytes())
    } catch {}
  }, 20)
  const started = process.hrtime.bigint()
  try {
    const result = await fn()
    return {
      result,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      growth: (peak - baseline) / MB,
      temp: temp / MB,
    }
  } finally {
    clearInterval(sampler)
  }
}

/**
 * A TCP proxy in front of the app that cuts every connection once it has
 * forwarded `cutEvery` bytes from the client, `cuts` times in all. Counts
 * the bytes it received from clients.
 */
function cuttingProxy(cutEvery, cuts) {
  const state = { received: 0, cuts: 0 }
  const server = createServer((client) => {
    const upstream = createConnection(port, '127.0.0.1')
    let forwarded = 0
    client.on('data', (chunk) => {
      state.received += chunk.length
      forwarded += chunk.length
      if (state.cuts < cuts && forwarded >= cutEvery) {
        state.cuts += 1
        client.destroy()
        upstream.destroy()
        return
      }
      if (!upstream.write(chunk)) client.pause()
    })
    upstream.on('drain', () => client.resume())
    upstream.pipe(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  return new Promise((resolve) =>
    server.listen(proxyPort, '127.0.0.1', () => resolve({ server, state }))
  )
}

/** Resumes like tus-js-client: HEAD for the offset, then PATCH the rest; retries after a cut. */
async function resumingUpload(session, file, origin) {
  const size = statSync(file).size
  const url = await tusCreate(session, size, origin)
  const headers = { 'Tus-Resumable': '1.0.0', 'Cookie': session.cookie() }
  let attempts = 0
  for (;;) {
    attempts += 1
    if (attempts > 20) throw new Error('too many attempts')
    let offset
    try {
      const head = await fetch(url, { method: 'HEAD', headers })
      if (head.status !== 200) throw new Error(`HEAD ${head.status}`)
      offset = Number(head.headers.get('upload-offset'))
    } catch {
      await sleep(200)
      continue
    }
    if (offset === size) return { attempts, status: 204 }
    const status = await new Promise((resolve) => {
      const req = request(url, {
        method: 'PATCH',
        headers: {
          ...headers,
          'X-CSRF-Token': session.csrf,
          'Upload-Offset': String(offset),
          'Content-Type': 'application/offset+octet-stream',
          'Content-Length': String(size - offset),
        },
      })
      req.on('response', (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode))
      })
      req.on('error', () => resolve(0))
      const body = createReadStream(file, { start: offset, highWaterMark: 1024 * 1024 })
      body.pipe(req)
      req.on('close', () => body.destroy())
    })
    if (status === 204) return { attempts, status }
    if (status >= 400 && status < 500 && status !== 409 && status !== 423) {
      throw new Error(`PATCH answered ${status}`)
    }
    await sleep(200)
  }
}

/**
 * The tests' local S3 server (TypeScript, loaded through the same loader as
 * the app), and the app's environment for it.
 */
async function startFakeS3() {
  await import('@poppinss/ts-exec')
  const { FakeS3Server } = await import('#tests/fakes/s3_server')
  const s3 = await new FakeS3Server().start()
  Object.assign(env, s3.appEnv())
  return s3
}

/** The tests' GCS fake (same loader), and the app's environment for it. */
async function startFakeGcs() {
  await import('@poppinss/ts-exec')
  const { FakeGcsServer } = await import('#tests/fakes/gcs_server')
  const gcs = await new FakeGcsServer().start()
  Object.assign(env, gcs.appEnv())
  return gcs
}

/** Bytes in the server's temp folder right now (part buffers on S3). */
function tempBytes() {
  let total = 0
  for (const name of readdirSync(env.TMPDIR)) {
    try {
      total += statSync(`${env.TMPDIR}/${name}`).size
    } catch {}
  }
  return total
}

/* The app runs from the source in production mode: its pages need the built assets. */
if (!existsSync('public/assets/.vite/manifest.json')) run('npx', ['vite', 'build'])

const big = makeSource(work, sizeMb)
const half = onBucket ? big : makeSource(work, 500)
const small = makeSource(work, 100)
const bytes = statSync(big).size
const loadAtStart = loadavg()[0]
const fakeStore = onS3 ? await startFakeS3() : onGcs ? await startFakeGcs() : null
rmSync(env.TMPDIR, { recursive: true, force: true })
mkdirSync(env.TMPDIR, { recursive: true })

rmSync(env.STORAGE_PATH, { recursive: true, force: true })
for (const suffix of ['', '-wal', '-shm']) rmSync(env.DATABASE_PATH + suffix, { force: true })
run('node', ['ace', 'migration:run', '--force'], { stdio: 'ignore' })
const server = spawn(
  process.execPath,
  ['--expose-gc', '--import=@poppinss/ts-exec', 'bin/server.ts'],
  { env, stdio: 'inherit' }
)
const results = { tus: [], raw: [] }
let cut = null
let concurrent = null
try {
  for (let attempt = 0; attempt < 300; attempt++) {
    try {
      if ((await fetch(`${base}/health`)).ok) break
    } catch {}
    await sleep(100)
  }
  const session = await userSession('uploads-bench@example.com', '10.9.0.1')
  /* Warm-up: a small upload on each path loads every module they use. */
  for (const fn of [tusUpload, rawUpload]) {
    const warm = await fn(session, small)
    if (warm.status >= 300) throw new Error(`warm-up answered ${warm.status}: ${warm.body}`)
  }

  for (let round = 0; round < rounds; round++) {
    for (const path of round % 2 ? ['raw', 'tus'] : ['tus', 'raw']) {
      const fn = path === 'tus' ? tusUpload : rawUpload
      const { result, seconds, growth, temp } = await measured(server.pid, () =>
        fn(session, big)
      )
      if (result.status >= 300) throw new Error(`${path} answered ${result.status}: ${result.body}`)
      const load = loadavg()[0]
      results[path].push({ seconds, growth, load, temp })
      console.log(
        `${path.padEnd(4)} round ${round + 1}: ${seconds.toFixed(2)} s, ${(bytes / MB / seconds).toFixed(0)} MB/s, RSS +${growth.toFixed(1)} MB, temp folder ≤ ${temp.toFixed(1)} MB, load ${load.toFixed(1)}`
      )
    }
  }

  /* 500 MB through a proxy that cuts the connection three times. */
  const halfBytes = statSync(half).size
  const proxy = await cuttingProxy(Math.floor(halfBytes / 4), 3)
  try {
    const measuredCut = await measured(server.pid, () =>
      resumingUpload(session, half, `http://127.0.0.1:${proxyPort}`)
    )
    const resent = proxy.state.received - halfBytes
    cut = {
      ...measuredCut,
      cuts: proxy.state.cuts,
      received: proxy.state.received,
      resent,
      size: halfBytes,
    }
    console.log(
      `cut x${proxy.state.cuts}: ${measuredCut.result.attempts} PATCH attempts, ${(resent / MB).toFixed(2)} MB sent twice (${((resent / halfBytes) * 100).toFixed(2)}%)`
    )
  } finally {
    proxy.server.close()
  }

  /* 20 users, one 100 MB upload each, all at once (fs disk only). */
  if (!onBucket) {
    const sessions = []
    for (let i = 0; i < users; i++)
      sessions.push(await userSession(`uploads-bench-${i}@example.com`, `10.9.1.${i + 1}`))
    const measuredMany = await measured(server.pid, () =>
      Promise.all(sessions.map((s) => tusUpload(s, small)))
    )
    const ok = measuredMany.result.filter((r) => r.status === 204).length
    for (const failed of measuredMany.result.filter((r) => r.status !== 204))
      console.log(`concurrent upload answered ${failed.status}: ${failed.body}`)
    concurrent = { ...measuredMany, ok, size: statSync(small).size }
    console.log(
      `${users} concurrent: ${ok}/${users} completed in ${measuredMany.seconds.toFixed(1)} s, RSS +${measuredMany.growth.toFixed(1)} MB`
    )
  }
} finally {
  server.kill('SIGTERM')
  await new Promise((resolve) => server.once('exit', resolve))
  await fakeStore?.stop()
}

const summary = (list) => ({
  temp: Math.max(...list.map((r) => r.temp)),
  best: Math.min(...list.map((r) => r.seconds)),
  typical: median(list.map((r) => r.seconds)),
  growth: Math.max(...list.map((r) => r.growth)),
})
const tus = summary(results.tus)
const raw = summary(results.raw)
const mbps = (seconds) => bytes / MB / seconds
const ratio = raw.best / tus.best
const typicalRatio = raw.typical / tus.typical
const speedOk = ratio >= 0.9
const memoryOk = tus.growth < 100
const cutOk = cut && cut.result.status === 204 && cut.resent / cut.size < 0.02
const concurrentOk = concurrent && concurrent.ok === users
const loads = [...results.tus, ...results.raw].map((r) => r.load)
const lines = [
  `\`npm run bench -- uploads\` (${new Date().toISOString().slice(0, 10)}, Node ${process.versions.node}, ${cpus().length} cores, ${rounds} rounds per path, client: curl).`,
  `A ${(bytes / MB).toFixed(0)} MB video (raw 720p frames in Matroska) uploaded to the app (NODE_ENV=production, fs disk, --expose-gc) over 127.0.0.1, ` +
    'alternating between the paths. Time from the first byte to the answer (streaming, type sniff, ffprobe, rename into storage).',
  '',
  '| path | best time (s) | best MB/s | typical MB/s (median) | peak RSS growth (MB) |',
  '| --- | ---: | ---: | ---: | ---: |',
  `| tus: \`POST /uploads\` + one \`PATCH\` | ${tus.best.toFixed(2)} | **${mbps(tus.best).toFixed(0)}** | ${mbps(tus.typical).toFixed(0)} | ${tus.growth.toFixed(1)} |`,
  `| raw body: \`PUT /tasks/:id/inputs/video\` | ${raw.best.toFixed(2)} | **${mbps(raw.best).toFixed(0)}** | ${mbps(raw.typical).toFixed(0)} | ${raw.growth.toFixed(1)} |`,
  '',
  `- Throughput target (tus ≥ 90% of the raw PUT, best vs best): **${speedOk ? 'met' : 'missed'}** (${(ratio * 100).toFixed(0)}%; typical vs typical ${(typicalRatio * 100).toFixed(0)}%).`,
  `- Memory target (server RSS growth < 100 MB during a 1 GB tus upload): **${memoryOk ? 'met' : 'missed'}** (peak ${tus.growth.toFixed(1)} MB).`,
  cut
    ? `- Cut connections: ${(cut.size / MB).toFixed(0)} MB through a local proxy that cut the connection ${cut.cuts} times: **${cutOk ? 'completed' : 'failed'}** after ${cut.result.attempts} PATCH requests, ${(cut.resent / MB).toFixed(2)} MB sent twice = **${((cut.resent / cut.size) * 100).toFixed(2)}%** of the file (target < 2%) in ${cut.seconds.toFixed(1)} s; RSS +${cut.growth.toFixed(1)} MB.`
    : '- Cut connections: not run.',
  concurrent
    ? `- ${users} concurrent ${(concurrent.size / MB).toFixed(0)} MB tus uploads from ${users} users: **${concurrent.ok}/${users} completed** (${concurrentOk ? 'met' : 'missed'}) in ${concurrent.seconds.toFixed(1)} s (${((users * concurrent.size) / MB / concurrent.seconds).toFixed(0)} MB/s in total); server RSS growth ${concurrent.growth.toFixed(1)} MB.`
    : '- Concurrent uploads: not run.',
  `- Each round (MB/s): tus ${results.tus.map((r) => mbps(r.seconds).toFixed(0)).join(', ')}; raw ${results.raw.map((r) => mbps(r.seconds).toFixed(0)).join(', ')}.`,
  `- Load average (1 min) during the 1 GB uploads: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${cpus().length} cores (${loadAtStart.toFixed(1)} at the start). Other work shares the machine; numbers move between runs.`,
]
const s3Lines = [
  `\`npm run bench -- uploads-s3\` (${new Date().toISOString().slice(0, 10)}, Node ${process.versions.node}, ${cpus().length} cores, ${rounds} rounds per path, client: curl).`,
  `A ${(bytes / MB).toFixed(0)} MB video (raw 720p frames in Matroska) uploaded to the app (NODE_ENV=production, DRIVE_DISK=s3, --expose-gc) over 127.0.0.1, ` +
    'against the local S3 server of the tests (s3rver with the multipart calls it lacks; it writes every part, the completed object and the copy to its own disk). ' +
    'Time from the first byte to the answer: tus = parts into the bucket, CompleteMultipartUpload, ranged-GET sniff, ffprobe through a presigned URL, CopyObject to the input key, delete; ' +
    'raw PUT = staging file on the app disk, sniff, ffprobe on it, one checked PutObject.',
  '',
  '| path | best time (s) | best MB/s | typical MB/s (median) | peak RSS growth (MB) | peak in the app temp folder (MB) |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  `| tus: \`POST /uploads\` + one \`PATCH\` (multipart upload into the bucket) | ${tus.best.toFixed(2)} | **${mbps(tus.best).toFixed(0)}** | ${mbps(tus.typical).toFixed(0)} | ${tus.growth.toFixed(1)} | ${tus.temp.toFixed(1)} |`,
  `| raw body: \`PUT /tasks/:id/inputs/video\` (staged, then PutObject) | ${raw.best.toFixed(2)} | **${mbps(raw.best).toFixed(0)}** | ${mbps(raw.typical).toFixed(0)} | ${raw.growth.toFixed(1)} | ${raw.temp.toFixed(1)} |`,
  '',
  `- tus vs raw PUT on S3 (best vs best): ${(ratio * 100).toFixed(0)}%; typical vs typical ${(typicalRatio * 100).toFixed(0)}%. The raw PUT's staging file is on the storage disk, not the temp folder: it holds the whole file.`,
  cut
    ? `- Cut connections: ${(cut.size / MB).toFixed(0)} MB through a local proxy that cut the connection ${cut.cuts} times: **${cutOk ? 'completed' : 'failed'}** after ${cut.result.attempts} PATCH requests, ${(cut.resent / MB).toFixed(2)} MB sent twice = **${((cut.resent / cut.size) * 100).toFixed(2)}%** of the file in ${cut.seconds.toFixed(1)} s; RSS +${cut.growth.toFixed(1)} MB, temp folder ≤ ${cut.temp.toFixed(1)} MB.`
    : '- Cut connections: not run.',
  `- Each round (MB/s): tus ${results.tus.map((r) => mbps(r.seconds).toFixed(0)).join(', ')}; raw ${results.raw.map((r) => mbps(r.seconds).toFixed(0)).join(', ')}.`,
  `- Load average (1 min) during the uploads: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${cpus().length} cores (${loadAtStart.toFixed(1)} at the start). Other work shares the machine; numbers move between runs.`,
]
const gcsLines = [
  `\`npm run bench -- uploads-gcs\` (${new Date().toISOString().slice(0, 10)}, Node ${process.versions.node}, ${cpus().length} cores, ${rounds} rounds per path, client: curl).`,
  `A ${(bytes / MB).toFixed(0)} MB video (raw 720p frames in Matroska) uploaded to the app (NODE_ENV=production, DRIVE_DISK=gcs, --expose-gc) over 127.0.0.1, ` +
    'against the GCS fake of the tests (in the bench process, objects in memory; it concatenates on every compose and copies on rewrite). ' +
    'Time from the first byte to the answer: tus = the PATCH streamed into a patch object, compose, ranged-read sniff, ffprobe through a V4 signed URL, rewrite to the input key, delete; ' +
    'raw PUT = staging file on the app disk, sniff, ffprobe on it, one checked resumable upload (8 MiB chunks).',
  '',
  '| path | best time (s) | best MB/s | typical MB/s (median) | peak RSS growth (MB) | peak in the app temp folder (MB) |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  `| tus: \`POST /uploads\` + one \`PATCH\` (composed in the bucket) | ${tus.best.toFixed(2)} | **${mbps(tus.best).toFixed(0)}** | ${mbps(tus.typical).toFixed(0)} | ${tus.growth.toFixed(1)} | ${tus.temp.toFixed(1)} |`,
  `| raw body: \`PUT /tasks/:id/inputs/video\` (staged, then a resumable upload) | ${raw.best.toFixed(2)} | **${mbps(raw.best).toFixed(0)}** | ${mbps(raw.typical).toFixed(0)} | ${raw.growth.toFixed(1)} | ${raw.temp.toFixed(1)} |`,
  '',
  `- tus vs raw PUT on GCS (best vs best): ${(ratio * 100).toFixed(0)}%; typical vs typical ${(typicalRatio * 100).toFixed(0)}%. The raw PUT's staging file is on the storage disk, not the temp folder: it holds the whole file.`,
  cut
    ? `- Cut connections: ${(cut.size / MB).toFixed(0)} MB through a local proxy that cut the connection ${cut.cuts} times: **${cutOk ? 'completed' : 'failed'}** after ${cut.result.attempts} PATCH requests, ${(cut.resent / MB).toFixed(2)} MB sent twice = **${((cut.resent / cut.size) * 100).toFixed(2)}%** of the file in ${cut.seconds.toFixed(1)} s; RSS +${cut.growth.toFixed(1)} MB, temp folder ≤ ${cut.temp.toFixed(1)} MB.`
    : '- Cut connections: not run.',
  `- Each round (MB/s): tus ${results.tus.map((r) => mbps(r.seconds).toFixed(0)).join(', ')}; raw ${results.raw.map((r) => mbps(r.seconds).toFixed(0)).join(', ')}.`,
  `- Load average (1 min) during the uploads: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${cpus().length} cores (${loadAtStart.toFixed(1)} at the start). Other work shares the machine; numbers move between runs.`,
]
const report = onS3 ? s3Lines : onGcs ? gcsLines : lines
console.log(`\n${report.join('\n')}`)
updateBenchmarkSection(
  onS3 ? 'Resumable uploads on S3' : onGcs ? 'Resumable uploads on GCS' : 'Resumable uploads',
  report.join('\n')
)
