import app from '@adonisjs/core/services/app'
import { type HttpContext, ExceptionHandler } from '@adonisjs/core/http'
import type { StatusPageRange, StatusPageRenderer } from '@adonisjs/core/types/http'
import { errors as vineErrors } from '@vinejs/vine'
import { errors as limiterErrors } from '@adonisjs/limiter'

/* Request fields never echoed back into a form (or into the session cookie). */
const SECRET_FIELDS = /password|token|_csrf|_method/i
const MAX_ECHOED_LENGTH = 300

function wantsJson(ctx: HttpContext) {
  return (
    ctx.request.url().startsWith('/api/') ||
    ctx.request.accepts(['html', 'json']) === 'json' ||
    ctx.request.ajax()
  )
}

function humanDuration(seconds: number) {
  if (seconds < 90) return `${Math.max(1, Math.ceil(seconds))} seconds`
  return `${Math.ceil(seconds / 60)} minutes`
}

export default class HttpExceptionHandler extends ExceptionHandler {
  /* Pretty stack traces only on a developer's machine; never in production or tests. */
  protected debug = app.inDev

  protected renderStatusPages = !app.inDev

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
    if (error instanceof vineErrors.E_VALIDATION_ERROR && !wantsJson(ctx)) {
      return this.redirectWithErrors(error, ctx)
    }
    return super.handle(error, ctx)
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
