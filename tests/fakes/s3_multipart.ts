import { createHash } from 'node:crypto'
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createRequire } from 'node:module'

/*
 * What s3rver (3.x) lacks of S3's multipart API, added in front of its own
 * routes (a Koa middleware in the same server, reading and writing the
 * files of its filesystem store):
 *
 *   ListParts            GET    /bucket/key?uploadId=…   (s3rver: MethodNotAllowed)
 *   AbortMultipartUpload DELETE /bucket/key?uploadId=…   (s3rver: MethodNotAllowed)
 *   UploadPart           PUT    /bucket/key?uploadId=…   NoSuchUpload for an unknown or aborted
 *                                                        upload (s3rver would recreate it)
 *   CompleteMultipartUpload POST /bucket/key?uploadId=…  S3's checks: every part listed exists
 *                        with that ETag, in ascending order, each but the last at least 5 MiB
 *                        (EntityTooSmall); the object's ETag is the multipart one,
 *                        MD5(concatenated part MD5s)-N, not an MD5 of the data (s3rver: the
 *                        data's MD5, no size check)
 *
 * As documented in the S3 API reference (ListParts, AbortMultipartUpload,
 * CompleteMultipartUpload). Requests are authenticated by s3rver's own
 * middleware first. Its store keeps an upload under
 * <directory>/<bucket>/._S3rver_uploads/<uploadId>/ (files `key`, `metadata`, `<n>`, `<n>.md5`).
 */

const require = createRequire(import.meta.url)
const S3Error = require('s3rver/lib/models/error.js') as new (
  code: string,
  message: string,
  detail?: Record<string, string>
) => Error
const authentication = require('s3rver/lib/middleware/authentication.js') as () => Middleware

export const MIN_PART_SIZE = 5 * 1024 * 1024
const MAX_PARTS_PER_LIST = 1000

type Context = {
  method: string
  path: string
  query: Record<string, string | string[] | undefined>
  params?: Record<string, string>
  req: NodeJS.ReadableStream
  status: number
  type: string
  body: unknown
  set(name: string, value: string): void
  store: {
    putObjectMultipart(
      bucket: string,
      uploadId: string,
      parts: { number: number; etag: string }[]
    ): Promise<{ md5: string; size: number }>
    getResourcePath(bucket: string, key: string | undefined, resource: string): string
  }
}
type Middleware = (ctx: Context, next: () => Promise<unknown>) => Promise<unknown>

function escapeXml(value: string | number | boolean) {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
}

function xml(root: string, fields: [string, string | number | boolean][], extra = '') {
  const inner = fields.map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`).join('')
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}${extra}</${root}>`
}

function noSuchUpload(uploadId: string) {
  return new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId }
  )
}

function readBody(req: NodeJS.ReadableStream) {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

type StoredPart = { number: number; md5: string; size: number; modified: Date }

export function multipartExtension(): Middleware {
  const authenticate = authentication()

  const uploadDir = (ctx: Context, bucket: string, uploadId: string) =>
    join(ctx.store.getResourcePath(bucket, undefined, 'uploads'), uploadId)

  /** The upload's folder if `uploadId` is a live upload of `key`, else NoSuchUpload. */
  async function liveUpload(ctx: Context, bucket: string, key: string, uploadId: string) {
    if (!/^[0-9a-f]+$/i.test(uploadId)) throw noSuchUpload(uploadId)
    const dir = uploadDir(ctx, bucket, uploadId)
    const storedKey = await readFile(join(dir, 'key'), 'utf8').catch(() => null)
    if (storedKey !== key) throw noSuchUpload(uploadId)
    return dir
  }

  async function partsOf(dir: string): Promise<StoredPart[]> {
    const names = (await readdir(dir)).filter((name) => /^\d+$/.test(name))
    const parts = await Promise.all(
      names.map(async (name) => {
        const info = await stat(join(dir, name))
        const md5 = await readFile(join(dir, `${name}.md5`), 'utf8')
        return { number: Number(name), md5, size: info.size, modified: info.mtime }
      })
    )
    return parts.sort((a, b) => a.number - b.number)
  }

  async function listParts(ctx: Context, bucket: string, key: string, uploadId: string) {
    const dir = await liveUpload(ctx, bucket, key, uploadId)
    const marker = Number(ctx.query['part-number-marker'] ?? 0) || 0
    const requested = Number(ctx.query['max-parts'] ?? MAX_PARTS_PER_LIST)
    const maxParts = Math.min(
      Number.isInteger(requested) && requested >= 0 ? requested : MAX_PARTS_PER_LIST,
      MAX_PARTS_PER_LIST
    )
    const after = (await partsOf(dir)).filter((part) => part.number > marker)
    const page = after.slice(0, maxParts)
    const truncated = after.length > page.length
    const partsXml = page
      .map(
        (part) =>
          `<Part><PartNumber>${part.number}</PartNumber><LastModified>${part.modified.toISOString()}</LastModified><ETag>${escapeXml(JSON.stringify(part.md5))}</ETag><Size>${part.size}</Size></Part>`
      )
      .join('')
    ctx.type = 'application/xml'
    ctx.body = xml(
      'ListPartsResult',
      [
        ['Bucket', bucket],
        ['Key', key],
        ['UploadId', uploadId],
        ['PartNumberMarker', marker],
        ['NextPartNumberMarker', page.length ? page[page.length - 1].number : marker],
        ['MaxParts', maxParts],
        ['IsTruncated', truncated],
        ['StorageClass', 'STANDARD'],
      ],
      partsXml
    )
  }

  async function abort(ctx: Context, bucket: string, key: string, uploadId: string) {
    const dir = await liveUpload(ctx, bucket, key, uploadId)
    await rm(dir, { recursive: true, force: true })
    ctx.status = 204
    ctx.body = null
  }

  async function complete(ctx: Context, bucket: string, key: string, uploadId: string) {
    const dir = await liveUpload(ctx, bucket, key, uploadId)
    const body = await readBody(ctx.req)
    const listed = [...body.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((match) => ({
      number: Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(match[1])?.[1]),
      etag: (/<ETag>([\s\S]*?)<\/ETag>/.exec(match[1])?.[1] ?? '')
        .replaceAll('&quot;', '"')
        .replaceAll('"', '')
        .trim(),
    }))
    if (!/<CompleteMultipartUpload[\s>]/.test(body) || listed.length === 0) {
      throw new S3Error(
        'MalformedXML',
        'The XML you provided was not well-formed or did not validate against our published schema.'
      )
    }
    if (listed.some((part, index) => index > 0 && part.number <= listed[index - 1].number)) {
      throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order.')
    }
    const stored = new Map((await partsOf(dir)).map((part) => [part.number, part]))
    listed.forEach((part, index) => {
      const found = stored.get(part.number)
      if (!found || found.md5 !== part.etag.toLowerCase()) {
        throw new S3Error(
          'InvalidPart',
          "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag."
        )
      }
      if (index < listed.length - 1 && found.size < MIN_PART_SIZE) {
        throw new S3Error(
          'EntityTooSmall',
          'Your proposed upload is smaller than the minimum allowed object size.',
          { PartNumber: String(part.number), ProposedSize: String(found.size) }
        )
      }
    })
    await ctx.store.putObjectMultipart(bucket, uploadId, listed)
    const etag = `${createHash('md5')
      .update(Buffer.concat(listed.map((part) => Buffer.from(part.etag, 'hex'))))
      .digest('hex')}-${listed.length}`
    await writeFile(ctx.store.getResourcePath(bucket, key, 'object.md5'), etag)
    ctx.type = 'application/xml'
    ctx.body = xml('CompleteMultipartUploadResult', [
      ['Location', `/${bucket}/${key}`],
      ['Bucket', bucket],
      ['Key', key],
      ['ETag', JSON.stringify(etag)],
    ])
  }

  return async function multipart(ctx, next) {
    const uploadId = ctx.query.uploadId
    if (typeof uploadId !== 'string') return next()
    const [, bucket, ...rest] = ctx.path.split('/')
    const key = decodeURIComponent(rest.join('/'))
    if (!bucket || !key) return next()
    const handlers: Record<string, (() => Promise<unknown>) | undefined> = {
      GET: () => listParts(ctx, bucket, key, uploadId),
      DELETE: () => abort(ctx, bucket, key, uploadId),
      POST: () => complete(ctx, bucket, key, uploadId),
      /* UploadPart: s3rver stores it, once the upload is known to be live. */
      PUT: async () => {
        await liveUpload(ctx, bucket, key, uploadId)
        return next()
      },
    }
    const handler = handlers[ctx.method]
    if (!handler) return next()
    ctx.params = { bucket, key }
    return authenticate(ctx, handler)
  }
}
