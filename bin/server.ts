await import('reflect-metadata')
const { Ignitor, prettyPrintError } = await import('@adonisjs/core')

const APP_ROOT = new URL('../', import.meta.url)

const IMPORTER = (filePath: string) => {
  if (filePath.startsWith('./') || filePath.startsWith('../')) {
    return import(new URL(filePath, APP_ROOT).href)
  }
  return import(filePath)
}

/*
| Graceful shutdown: app.terminate() closes the HTTP server (no new
| connections, in-flight requests finish), stops the in-process worker after
| its current step and closes the database. Past SHUTDOWN_TIMEOUT_SECONDS
| the process exits anyway (code 1), before the platform's SIGKILL.
*/
function exitAfterDeadline() {
  const seconds = Number(process.env.SHUTDOWN_TIMEOUT_SECONDS || 25)
  setTimeout(() => {
    process.stderr.write(
      `${JSON.stringify({ level: 50, time: Date.now(), msg: `shutdown did not finish in ${seconds} s; exiting` })}\n`
    )
    process.exit(1)
  }, seconds * 1000).unref()
}

new Ignitor(APP_ROOT, { importer: IMPORTER })
  .tap((app) => {
    app.booting(async () => {
      await import('#start/env')
    })
    app.listen('SIGTERM', () => {
      exitAfterDeadline()
      return app.terminate()
    })
    app.listenIf(app.managedByPm2, 'SIGINT', () => {
      exitAfterDeadline()
      return app.terminate()
    })
  })
  .httpServer()
  .start()
  .catch((error) => {
    process.exitCode = 1
    prettyPrintError(error)
  })
