import { HttpContext } from '@adonisjs/core/http'

/*
 * The process-level safety net. An uncaught exception or an unhandled
 * rejection means the process is in a state nobody planned for: it is
 * logged (fatal, with the request it happened in when that is known, and
 * the requests that die with the process) and the process exits with
 * code 1 at once, for its supervisor to start a fresh one (see
 * docs/operations.md, "Crashes and restarts"). Never a silent continue.
 */

/** Requests being handled right now (ids), kept by the request log middleware. */
export const inFlightRequests = new Set<string>()

/* The log line lists at most this many of the requests that die with the process. */
const MAX_LISTED = 20

type FatalLogger = { fatal(bindings: Record<string, unknown>, message: string): void }

export type SafetyNetOptions = {
  logger: FatalLogger
  /** process.exit, replaceable in tests. */
  exit?: (code: number) => void
}

export type FatalKind = 'uncaughtException' | 'unhandledRejection'

/** Logs one fatal line for `error` and exits with code 1. */
export function fatal(kind: FatalKind, error: unknown, options: SafetyNetOptions) {
  const exit = options.exit ?? ((code: number) => process.exit(code))
  let requestId: string | undefined
  try {
    requestId = HttpContext.get()?.request.id()
  } catch {}
  const inFlight = [...inFlightRequests].slice(0, MAX_LISTED)
  try {
    options.logger.fatal(
      {
        err: error instanceof Error ? error : new Error(String(error)),
        event: kind,
        ...(requestId ? { request_id: requestId } : {}),
        in_flight_requests: inFlight,
        in_flight_count: inFlightRequests.size,
      },
      `${kind}: exiting with code 1 for the supervisor to restart the process`
    )
  } catch {
    /* The logger itself failed: the exit below still happens. */
    process.stderr.write(`${kind}: ${String(error)}\n`)
  }
  exit(1)
}

let installed = false

/** Registers the handlers once per process (web server and Ace commands such as the worker). */
export function installSafetyNet(options: SafetyNetOptions) {
  if (installed) return
  installed = true
  process.on('uncaughtException', (error) => fatal('uncaughtException', error, options))
  process.on('unhandledRejection', (reason) => fatal('unhandledRejection', reason, options))
}
