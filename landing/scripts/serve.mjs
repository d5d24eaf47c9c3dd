// A tiny static server that behaves like Netlify for the built site: pretty URLs
// (/terms -> /terms/), 404.html for missing pages, gzip for text, byte ranges for
// media, and the headers from netlify.toml. Used by the browser test and the
// benchmark; `node scripts/serve.mjs [dir] [port]` runs it by hand.
import { createServer } from 'node:http'
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { parse as parseToml } from 'smol-toml'

const here = fileURLToPath(new URL('.', import.meta.url))
export const NETLIFY_TOML = resolve(here, '../../netlify.toml')

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.vtt': 'text/vtt; charset=utf-8',
  '.webp': 'image/webp',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.woff2': 'font/woff2',
}
const COMPRESSIBLE = new Set(['.html', '.css', '.js', '.mjs', '.json', '.svg', '.txt', '.vtt'])

/** The [[headers]] rules of netlify.toml as [{ for, values }]. */
export function netlifyHeaderRules(file = NETLIFY_TOML) {
  return parseToml(readFileSync(file, 'utf8')).headers ?? []
}

/** Netlify-style path glob ("/*", "/_astro/*") to a RegExp. */
function globToRegExp(glob) {
  return new RegExp('^' + glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$')
}

export function headersFor(pathname, rules) {
  const out = {}
  for (const rule of rules) if (globToRegExp(rule.for).test(pathname)) Object.assign(out, rule.values)
  const csp = out['Content-Security-Policy']
  // Plain http on loopback: don't ask the browser to upgrade requests to https.
  if (csp) out['Content-Security-Policy'] = csp.replace(/;\s*upgrade-insecure-requests/, '')
  delete out['Strict-Transport-Security']
  return out
}

/** Maps a URL path to { file } | { redirect } | { status } the way Netlify does. */
export function resolveFile(root, pathname) {
  const rel = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '')
  const full = join(root, rel)
  if (full !== root && !full.startsWith(root + sep)) return { status: 403 }
  if (existsSync(full) && statSync(full).isDirectory()) {
    if (!pathname.endsWith('/')) return { redirect: pathname + '/' }
    const index = join(full, 'index.html')
    return existsSync(index) ? { file: index } : { status: 404 }
  }
  if (existsSync(full)) return { file: full }
  return { status: 404 }
}

/**
 * Serves `dir` on 127.0.0.1. Resolves to { url, close, requests } where requests
 * lists every path asked for (the browser test uses it to prove lazy loading).
 */
export function serve(dir, { port = 0, gzip = true } = {}) {
  const root = resolve(dir)
  const rules = netlifyHeaderRules()
  const requests = []
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    requests.push(url.pathname)
    const found = resolveFile(root, url.pathname)
    if (found.redirect) {
      res.writeHead(301, { Location: found.redirect + url.search })
      return res.end()
    }
    let status = 200
    let file = found.file
    if (!file) {
      status = found.status ?? 404
      file = join(root, '404.html')
      if (!existsSync(file)) {
        res.writeHead(status)
        return res.end()
      }
    }
    const ext = extname(file).toLowerCase()
    const headers = {
      'Content-Type': TYPES[ext] ?? 'application/octet-stream',
      'Cache-Control': 'public, max-age=0, must-revalidate',
      ...headersFor(url.pathname, rules),
    }
    const size = statSync(file).size
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '')
    if (range && status === 200 && !COMPRESSIBLE.has(ext)) {
      let start = range[1] === '' ? size - Number(range[2]) : Number(range[1])
      let end = range[1] !== '' && range[2] !== '' ? Number(range[2]) : size - 1
      start = Math.max(0, start)
      end = Math.min(end, size - 1)
      if (start > end) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` })
        return res.end()
      }
      res.writeHead(206, { ...headers, 'Accept-Ranges': 'bytes', 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1 })
      if (req.method === 'HEAD') return res.end()
      return createReadStream(file, { start, end }).pipe(res)
    }
    if (gzip && COMPRESSIBLE.has(ext) && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
      const body = gzipSync(readFileSync(file), { level: 9 })
      res.writeHead(status, { ...headers, 'Content-Encoding': 'gzip', 'Content-Length': body.length, Vary: 'Accept-Encoding' })
      return res.end(req.method === 'HEAD' ? undefined : body)
    }
    res.writeHead(status, { ...headers, 'Accept-Ranges': 'bytes', 'Content-Length': size })
    if (req.method === 'HEAD') return res.end()
    createReadStream(file).pipe(res)
  })
  return new Promise((ok, fail) => {
    server.once('error', fail)
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address()
      ok({
        url: `http://127.0.0.1:${p}`,
        requests,
        close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done()) }),
      })
    })
  })
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? resolve(here, '../dist')
  const { url } = await serve(dir, { port: Number(process.argv[3] ?? 4322) })
  console.log(`Serving ${dir} at ${url}`)
}
