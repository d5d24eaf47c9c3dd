import busboy from 'busboy'
import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import { UploadRejectedException } from '#exceptions/task_exceptions'
import { bodyGone } from '#services/tasks/upload_service'

export const INCOMPLETE_UPLOAD = 'The upload did not complete. Please try again.'

/* The form has one file input; its few other fields are never read (CSRF is in the query). */
const LIMITS = { files: 1, fields: 10, fieldSize: 8 * 1024, parts: 16, headerPairs: 16 }

const ignore = () => {}

function settle<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error) => ({ error })
  )
}

/**
 * Reads a multipart/form-data request and hands the stream of its file
 * part `field` to `stage` the moment the part's headers are in. Resolves
 * with what `stage` returned, or null when there is no such part.
 *
 * Why not the framework's `request.multipart`: it resumes the parts it
 * skips (another field's file, an empty file name, a part without a name)
 * without an 'error' listener, so a body cut inside such a part raises an
 * unhandled 'error' and ends the process. Here every listener, on the
 * request, the parser and every part, is attached synchronously, before
 * anything is awaited, and every failure goes one way: the parser is
 * destroyed, which destroys the file part with an error that `stage`
 * handles (closing its fd and removing its file).
 *
 * A cut, reset or malformed body rejects with a 400 UploadRejectedException. When
 * `stage` fails (too large, wrong type) its error wins, the parser stops
 * and the rest of the body is drained, so the answer gets through.
 */
export async function readFilePart<T>(
  req: IncomingMessage,
  field: string,
  stage: (part: Readable, fileName: string) => Promise<T>,
  discard: (staged: T) => Promise<void>
): Promise<T | null> {
  let staging: Promise<T> | null = null
  const parsed = new Promise<void>((resolve, reject) => {
    let parser: busboy.Busboy
    let settled = false
    const broken = () => {
      if (settled) return
      settled = true
      req.unpipe(parser)
      req.on('error', ignore)
      req.resume()
      parser?.destroy(new Error('upload incomplete'))
      reject(new UploadRejectedException(INCOMPLETE_UPLOAD, 400))
    }
    /* The staging failed (and answers): stop parsing, drop the rest of the body. */
    const stop = () => {
      if (settled) return
      settled = true
      req.unpipe(parser)
      req.on('error', ignore)
      req.resume()
      parser.destroy()
      resolve()
    }
    if (bodyGone(req)) return broken()
    try {
      parser = busboy({ headers: req.headers, limits: LIMITS })
    } catch {
      /* No or a bad boundary. */
      return broken()
    }
    parser.on('error', broken)
    parser.once('finish', () => {
      if (settled) return
      settled = true
      resolve()
    })
    parser.once('close', broken)
    req.on('error', broken)
    req.once('aborted', broken)
    req.once('close', () => {
      if (!req.readableEnded) broken()
    })
    parser.on('file', (name, part, info) => {
      if (staging || name !== field) {
        part.on('error', ignore)
        part.resume()
        return
      }
      /* stage() attaches its listeners to the part before it returns. */
      staging = stage(part, info.filename ?? '')
      staging.catch(stop)
    })
    req.pipe(parser)
  })

  const parseFailure = await settle(parsed)
  const staged = staging ? await settle(staging as Promise<T>) : null
  if (staged && 'error' in staged) throw staged.error
  if ('error' in parseFailure) {
    if (staged) await discard(staged.value)
    throw parseFailure.error
  }
  return staged ? staged.value : null
}
