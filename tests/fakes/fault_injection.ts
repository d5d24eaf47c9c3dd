import { ServerResponse } from 'node:http'

/*
 * Test-only fault injection, loaded with `--import` into a server process
 * (never by the app). A request with the header `x-inject-fault:
 * exception` (or `rejection`) makes the process fail inside that request's
 * async context, just after the answer's headers are written, the way a
 * bug in a stream callback would; SIGUSR2 does the same outside any request.
 */

function inject(kind: unknown) {
  if (kind === 'exception') {
    setImmediate(() => {
      throw new Error('injected uncaught exception')
    })
  } else if (kind === 'rejection') {
    setImmediate(() => {
      void Promise.reject(new Error('injected unhandled rejection'))
    })
  }
}

const writeHead = ServerResponse.prototype.writeHead
ServerResponse.prototype.writeHead = function (this: ServerResponse, ...args: unknown[]) {
  inject(this.req?.headers['x-inject-fault'])
  return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args)
} as typeof writeHead

process.on('SIGUSR2', () => inject(process.env.FAULT_ON_SIGNAL ?? 'exception'))
