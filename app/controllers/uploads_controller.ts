import type { HttpContext } from '@adonisjs/core/http'
import { cutOffBody } from '#helpers/cut_off_body'
import { NodeRequest } from 'srvx/node'
import { resumableUploads } from '#services/uploads/resumable_uploads'
import { UploadRejectedException } from '#exceptions/task_exceptions'
import { takeUploadSlot, TOO_MANY_UPLOADS } from '#services/tasks/upload_slots'

/**
 * Resumable uploads (tus 1.0.0) at /uploads. The session authenticates,
 * shield checks X-CSRF-Token on POST/PATCH/DELETE before this runs, and
 * @tus/server speaks the protocol; its answer goes out through the Adonis
 * response, so the session cookie and the security headers stay as on
 * every other route. See app/services/uploads/resumable_uploads.ts.
 */
export default class UploadsController {
  async handle(ctx: HttpContext) {
    const { auth, request, response } = ctx
    const user = auth.user
    if (!user) {
      cutOffBody(ctx)
      return response
        .status(401)
        .header('Tus-Resumable', '1.0.0')
        .send({ error: { code: 'unauthenticated', message: 'Please log in.' } })
    }
    /* A PATCH, or a creation with its first bytes, streams a body: one of the account's upload slots. */
    const release = streamsBody(ctx) ? takeUploadSlot(user.id) : noop
    if (!release) {
      cutOffBody(ctx)
      return response
        .status(429)
        .header('Tus-Resumable', '1.0.0')
        .send({
          error: { code: new UploadRejectedException('').jsonCode, message: TOO_MANY_UPLOADS },
        })
    }
    const req = request.request
    const webRequest = new NodeRequest({ req, res: response.response }) as unknown as Request
    let answer: Response
    try {
      answer = await (await resumableUploads()).handle(req, user.id, webRequest)
    } finally {
      release()
    }

    response.status(answer.status)
    answer.headers.forEach((value, name) => {
      /* Adonis sets the length of what it sends; keep-alive is ours to decide. */
      if (name !== 'content-length' && name !== 'connection') response.header(name, value)
    })
    const body = await answer.text()
    if (answer.headers.get('connection') === 'close' || !req.complete) cutOffBody(ctx)
    if (body) response.type(body.startsWith('{') ? 'application/json' : 'text/plain')
    return response.send(body)
  }
}

const noop = () => {}

function streamsBody({ request }: HttpContext) {
  const method = request.method()
  if (method === 'PATCH') return true
  if (method !== 'POST') return false
  return Number(request.header('content-length') ?? 0) > 0 || !!request.header('transfer-encoding')
}
