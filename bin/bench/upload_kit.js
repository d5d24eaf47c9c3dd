/*
 * What the two upload benchmarks (upload.js: raw PUT and multipart;
 * uploads.js: resumable uploads) share: their command-line options, the app's
 * environment, a real source video made by ffmpeg, and the server's RSS.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'

export const MB = 1024 * 1024

/** `--name value` from the command line, else `fallback`. */
export function optionFrom(args) {
  return (name, fallback) => {
    const index = args.indexOf(`--${name}`)
    return index === -1 ? fallback : args[index + 1]
  }
}

/** The app in production on 127.0.0.1 with its files under `work` (fs disk, no in-process worker). */
export function appEnv({ port, work, extra = {} }) {
  const base = `http://127.0.0.1:${port}`
  return {
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
    ...extra,
  }
}

/** Runs a command to its end with `env`; throws when it fails. */
export function runnerWith(env) {
  return (cmd, cmdArgs, options = {}) => {
    const result = spawnSync(cmd, cmdArgs, { stdio: 'inherit', env, ...options })
    if (result.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed`)
  }
}

/** ~mb of uncompressed 720p frames in `work`: a real video that ffprobe accepts, made fast, kept. */
export function makeSource(work, mb) {
  mkdirSync(work, { recursive: true })
  const path = `${work}/source-${mb}mb.mkv`
  if (existsSync(path) && statSync(path).size >= mb * MB * 0.99) return path
  const frames = Math.ceil((mb * MB) / (1280 * 720 * 1.5))
  console.log(`making ${path} (${frames} raw 720p frames)…`)
  // prettier-ignore
  runnerWith(process.env)('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25',
    '-frames:v', String(frames), '-c:v', 'rawvideo', '-pix_fmt', 'yuv420p', '-f', 'matroska', path])
  return path
}

/** Resident memory of a process (bytes), from /proc. */
export function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/**
 * A browser-like session on the app at `base`: a cookie jar, the CSRF token
 * of a page, and form posts that carry both (plus `headers` on every call,
 * e.g. the X-Forwarded-For of one client).
 */
export function formSession(base, headers = {}) {
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
    const response = await fetch(base + path, { headers: { ...headers, cookie: cookie() } })
    keep(response)
    return (await response.text()).match(/name='_csrf' value='([^']+)'/)[1]
  }
  const post = async (formPath, path, form) => {
    /* The token first: fetching the form may set the session cookie the POST must carry. */
    const token = await csrf(formPath)
    const response = await fetch(base + path, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        ...headers,
        'content-type': 'application/x-www-form-urlencoded',
        'cookie': cookie(),
      },
      body: new URLSearchParams({ _csrf: token, ...form }),
    })
    keep(response)
    return response
  }
  return { cookie, csrf, post }
}
