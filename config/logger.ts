import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { HttpContext } from '@adonisjs/core/http'
import { defineConfig, syncDestination, targets } from '@adonisjs/core/logger'
import { scrubLogLine } from '#helpers/log_scrub'

const loggerConfig = defineConfig({
  default: 'app',
  loggers: {
    app: {
      enabled: true,
      name: env.get('APP_NAME') ?? 'vgen',
      level: env.get('LOG_LEVEL'),
      destination: !app.inProduction ? await syncDestination() : undefined,
      /*
       * Every line written while a request is handled carries its id, also
       * from services that use the global logger (the id comes from the
       * request's async context). `ctx.logger` already binds it.
       */
      mixin(_, __, logger) {
        const ctx = HttpContext.get()
        if (!ctx || 'request_id' in logger.bindings()) return {}
        return { request_id: ctx.request.id() }
      },
      /* Never write secrets or personal data into logs. */
      redact: {
        paths: [
          'password',
          '*.password',
          'passwordConfirmation',
          '*.passwordConfirmation',
          'currentPassword',
          '*.currentPassword',
          'token',
          '*.token',
          'apiKey',
          '*.apiKey',
          'secret',
          '*.secret',
          'email',
          '*.email',
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'headers.cookie',
          '*.headers.authorization',
          '*.headers.cookie',
        ],
        censor: '[redacted]',
      },
      /* Last line of defence for what the paths above cannot see (messages, error texts). */
      hooks: { streamWrite: scrubLogLine },
      transport: {
        targets: [targets.file({ destination: 1 })],
      },
    },
  },
})

export default loggerConfig

declare module '@adonisjs/core/types' {
  export interface LoggersList extends InferLoggers<typeof loggerConfig> {}
}
