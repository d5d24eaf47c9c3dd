import app from '@adonisjs/core/services/app'
import { type HttpContext, ExceptionHandler, errors } from '@adonisjs/core/http'
import type { StatusPageRange, StatusPageRenderer } from '@adonisjs/core/types/http'
import { errors as vineErrors } from '@vinejs/vine'
import { errors as limiterErrors } from '@adonisjs/limiter'
import { errors as shieldErrors } from '@adonisjs/shield'
import { errors as bouncerErrors } from '@adonisjs/bouncer'
import DomainException from '#exceptions/domain_exception'
import { Refusal } from '#exceptions/refusal'

/* Request fields never echoed back into a form (or into the session cookie). */
const SECRET_FIELDS = /password|token|_csrf|_method/i
const MAX_ECHOED_LENGTH = 300

/* HTML forms only send GET and POST: a PUT (the uploader) is a script that reads JSON; so is a tus client. */
function wantsJson(ctx: HttpContext) {
  return (
    isMachineEndpoint(ctx) ||
    ctx.request.url().startsWith('/uploads') ||
    ctx.request.accepts(['html', 'json']) === 'json' ||
    ctx.request.ajax() ||
    !['GET', 'HEAD', 'POST'].includes(ctx.request.method())
  )
}

/* Machine-to-machine endpoints: JSON errors, never an HTML page. */
function isMachineEndpoint(ctx: HttpContext) {
  const url = ctx.request.url()
  return url.startsWith('/api/') || url.startsWith('/webhooks/')
}

function machineError(
  error: unknown,
  ctx: HttpContext
): { status: number; code: string; message: string } {
  const err = (error ?? {}) as { status?: unknown; code?: unknown; message?: unknown }
  const status =
    typeof err.status === 'number' && err.status >= 400 && err.status < 600 ? err.status : 500
  if (error instanceof vineErrors.E_VALIDATION_ERROR) {
    const first = (error.messages as { message: string }[])[0]
    const code = ctx.request.method() === 'GET' ? 'invalid_query' : 'invalid_body'
    return { status: 400, code, message: first?.message ?? 'The request is not valid' }
  }
  /* The bodyparser's JSON errors: a SyntaxError (400) or a non-object JSON in strict mode (422). */
  if (error instanceof SyntaxError || (status === 422 && /JSON/.test(String(err.message)))) {
    return {
      status: 400,
      code: 'invalid_json',
      message: 'The body is not valid JSON (an object is expected)',
    }
  }
  if (status >= 500) return { status: 500, code: 'internal_error', message: 'Something went wrong' }
  if (status === 404) return { status, code: 'not_found', message: 'Not found' }
  const code =
    typeof err.code === 'string' ? err.code.replace(/^E_/, '').toLowerCase() : 'bad_request'
  return {
    status,
    code,
    message: typeof err.message === 'string' ? err.message : 'Request not valid',
  }
}

function rendersItself(error: unknown) {
  return typeof (error as { handle?: unknown } | null)?.handle === 'function'
}

function humanDuration(seconds: number) {
  if (seconds < 90) return `${Math.max(1, Math.ceil(seconds))} seconds`
  return `${Math.ceil(seconds / 60)} minutes`
}

export default class HttpExceptionHandler extends ExceptionHandler {
  /* Pretty stack traces only on a developer's machine; never in production or tests. */
  protected debug = app.inDev

  protected renderStatusPages = !app.inDev

  /* Domain refusals are answers, not faults: where one matters, the service logs it with context. */
  protected ignoreExceptions = [
    errors.E_HTTP_EXCEPTION,
    errors.E_ROUTE_NOT_FOUND,
    errors.E_CANNOT_LOOKUP_ROUTE,
    errors.E_HTTP_REQUEST_ABORTED,
    DomainException,
  ]

  protected statusPages: Record<StatusPageRange, StatusPageRenderer> = {
    '404': (_, { view }) => view.render('pages/errors/not_found', { title: 'Page not found' }),
    '400..403': (error, { view }) =>
      view.render('pages/errors/client_error', {
        title: 'Request not valid',
        message: (error as { message?: string }).message || 'This request is not valid.',
      }),
    '405..428': (error, { view }) =>
      view.render('pages/errors/client_error', {
        title: 'Request not valid',
        message: (error as { message?: string }).message || 'This request is not valid.',
      }),
    '500..599': (_, { view, request }) =>
      view.render('pages/errors/server_error', {
        title: 'Something went wrong',
        requestId: request.id(),
      }),
  }

  async handle(error: unknown, ctx: HttpContext) {
    if (error instanceof limiterErrors.ThrottleException) {
      return this.renderThrottled(error, ctx)
    }
    if (error instanceof DomainException) return this.renderDomainError(error, ctx)
    /* A policy's refusal (TaskPolicy) carries the domain exception the user sees. */
    if (
      error instanceof bouncerErrors.E_AUTHORIZATION_FAILURE &&
      error.response instanceof Refusal
    ) {
      return this.renderDomainError(error.response.exception, ctx)
    }
    /* Shield answers a bad CSRF token with a redirect; a script (e.g. the uploader) needs a 403 it can show. */
    if (error instanceof shieldErrors.E_BAD_CSRF_TOKEN && wantsJson(ctx)) {
      return ctx.response.status(403).send({
        error: {
          code: 'bad_csrf_token',
          message: 'Your session has expired. Reload the page and try again.',
        },
      })
    }
    /* Exceptions with their own handle() render themselves (an unreachable gateway, a pack choice). */
    if (rendersItself(error)) return super.handle(error, ctx)
    if (isMachineEndpoint(ctx)) return this.renderMachineError(error, ctx)
    if (error instanceof vineErrors.E_VALIDATION_ERROR && !wantsJson(ctx)) {
      return this.redirectWithErrors(error, ctx)
    }
    return super.handle(error, ctx)
  }

  /**
   * The internal API and webhooks always answer `{"error": {"code", "message"}}`,
   * including for bodies the bodyparser refuses (malformed JSON: 400).
   */
  private renderMachineError(error: unknown, ctx: HttpContext) {
    const { status, code, message } = machineError(error, ctx)
    return ctx.response.status(status).send({ error: { code, message } })
  }

  /**
   * A domain refusal: JSON for scripts, the error page for a page request or
   * a missing resource, otherwise its flash message back on the form.
   * Exceptions with their own `handle()` render themselves.
   */
  private renderDomainError(error: DomainException, ctx: HttpContext) {
    const selfHandled = error as DomainException & {
      handle?: (error: DomainException, ctx: HttpContext) => unknown
    }
    if (typeof selfHandled.handle === 'function') return selfHandled.handle(error, ctx)
    if (wantsJson(ctx)) {
      return ctx.response
        .status(error.status)
        .send({ error: { code: error.jsonCode, message: error.message } })
    }
    /* A missing resource, a page request, or a request refused before its body was read. */
    const rendersPage = (error as { rendersPage?: boolean }).rendersPage === true
    if (error.status === 404 || rendersPage || ['GET', 'HEAD'].includes(ctx.request.method())) {
      return super.handle(error, ctx)
    }
    const [key, value] = error.flashMessage()
    ctx.session.flash(key, value)
    return error.redirectTo
      ? ctx.response.redirect(error.redirectTo)
      : ctx.response.redirect().back()
  }

  /** 429 with Retry-After and a page (or JSON) that says when to try again. */
  private renderThrottled(
    error: InstanceType<typeof limiterErrors.ThrottleException>,
    ctx: HttpContext
  ) {
    const retryAfter = Math.max(1, Math.ceil(error.response.availableIn))
    ctx.response.header('Retry-After', String(retryAfter))
    ctx.response.status(429)
    if (wantsJson(ctx)) {
      return ctx.response.send({
        error: {
          code: 'too_many_requests',
          message: `Too many requests. Retry in ${retryAfter} s.`,
        },
      })
    }
    return ctx.view
      .render('pages/errors/too_many_requests', {
        title: 'Too many attempts',
        retryAfterText: humanDuration(retryAfter),
      })
      .then((html) => ctx.response.send(html))
  }

  /**
   * Form validation errors go back to the form. Only short, non-secret
   * fields are kept as old input, so a 10 KB field cannot bloat the cookie.
   */
  private redirectWithErrors(
    error: InstanceType<typeof vineErrors.E_VALIDATION_ERROR>,
    ctx: HttpContext
  ) {
    ctx.session.flashValidationErrors(error, false)
    const body = ctx.request.all()
    for (const [key, value] of Object.entries(body)) {
      if (typeof value === 'string' && !SECRET_FIELDS.test(key)) {
        ctx.session.flash(key, value.slice(0, MAX_ECHOED_LENGTH))
      }
    }
    return ctx.response.redirect().back()
  }

  async report(error: unknown, ctx: HttpContext) {
    return super.report(error, ctx)
  }
}
