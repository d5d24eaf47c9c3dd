import { Readable } from 'node:stream'
import type { HttpContext } from '@adonisjs/core/http'
import mediaStorage from '#integrations/storage/media_storage'

type Range = { start: number; end: number }

/**
 * Parses a single `Range: bytes=…` header against a file of `size` bytes.
 * null = no (usable) range, send everything; 'unsatisfiable' = 416.
 * Several ranges are answered with the whole file, which RFC 9110 allows.
 */
export function parseRange(
  header: string | undefined,
  size: number
): Range | null | 'unsatisfiable' {
  if (!header) return null
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!match || (!match[1] && !match[2])) return null
  if (size === 0) return 'unsatisfiable'
  if (!match[1]) {
    const suffix = Number(match[2])
    if (suffix === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(match[1])
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1
  if (start >= size || end < start) return 'unsatisfiable'
  return { start, end }
}

function contentDisposition(type: 'attachment' | 'inline', fileName: string) {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_')
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`
}

/** Streams a stored file (whole or one byte range) with the right headers. */
export async function sendStoredFile(
  { request, response }: HttpContext,
  file: { key: string; contentType: string; fileName: string; disposition: 'attachment' | 'inline' }
) {
  const size = await mediaStorage.size(file.key)
  const range = parseRange(request.header('range'), size)
  response.header('Accept-Ranges', 'bytes')
  response.header('Content-Type', file.contentType)
  response.header('Content-Disposition', contentDisposition(file.disposition, file.fileName))
  response.header('Cache-Control', 'private, no-store')
  if (range === 'unsatisfiable') {
    response.header('Content-Range', `bytes */${size}`)
    return response.status(416).send('')
  }
  if (range) {
    response.status(206)
    response.header('Content-Range', `bytes ${range.start}-${range.end}/${size}`)
    response.header('Content-Length', String(range.end - range.start + 1))
  } else {
    response.status(200)
    response.header('Content-Length', String(size))
  }
  /*
   * HEAD answers like GET without the body: an empty stream keeps the
   * status and every header above (an empty send() would turn it into a
   * 204 without Content-Length or Content-Type). Node sends no body for
   * HEAD, and the file is never opened.
   */
  if (request.method() === 'HEAD') return response.stream(Readable.from([]))
  return response.stream(await mediaStorage.open(file.key, range ?? undefined))
}
