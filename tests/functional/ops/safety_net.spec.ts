import { test } from '@japa/runner'
import { databasePath } from '#config/database'
import { freePort, startServer, type AppProcess } from '#tests/helpers/app_process'
import { sendRaw, target } from '#tests/helpers/hostile'
import { fatal, inFlightRequests } from '#helpers/safety_net'

/*
 * The process-level safety net: an uncaught exception or an unhandled
 * rejection is logged as one fatal line (with the request it happened in)
 * and the process exits with code 1, for its supervisor to restart it.
 * Faults are injected by a test-only module loaded into the server process.
 */

const FAULTS = ['--import=./tests/fakes/fault_injection.ts']

async function exitOf(server: AppProcess, timeoutMs = 10_000) {
  const timer = setTimeout(() => server.child.kill('SIGKILL'), timeoutMs)
  try {
    return await server.exited
  } finally {
    clearTimeout(timer)
  }
}

function fatalLines(server: AppProcess) {
  return server.jsonLines().filter((line) => line.level === 60)
}

test.group('Safety net (uncaught errors end the process)', () => {
  test('{name} inside a request: one fatal line with its request id, exit code 1')
    .with([
      { name: 'an uncaught exception', kind: 'exception' },
      { name: 'an unhandled rejection', kind: 'rejection' },
    ])
    .run(async ({ assert }, { kind }) => {
      const server = await startServer({ port: await freePort(), databasePath, nodeArgs: FAULTS })
      try {
        const response = await sendRaw(target(server.baseUrl), {
          method: 'GET',
          path: '/health',
          headers: { 'x-inject-fault': kind },
        })
        const requestId = response.headers['x-request-id']
        assert.isString(requestId)
        const { code } = await exitOf(server)
        assert.equal(code, 1, 'exits non-zero, for the supervisor to restart it')
        const lines = fatalLines(server)
        assert.lengthOf(lines, 1, server.lines.slice(-10).join('\n'))
        const [line] = lines
        assert.equal(line.event, kind === 'exception' ? 'uncaughtException' : 'unhandledRejection')
        assert.equal(line.request_id, requestId)
        assert.include(
          line.err.message,
          `injected ${kind === 'exception' ? 'uncaught exception' : 'unhandled rejection'}`
        )
        assert.include(line.msg, 'exiting with code 1')
      } finally {
        await server.stop('SIGKILL')
      }
    })
    .timeout(60_000)

  test('outside any request: logged without a request id, exit code 1', async ({ assert }) => {
    const server = await startServer({ port: await freePort(), databasePath, nodeArgs: FAULTS })
    try {
      server.child.kill('SIGUSR2')
      const { code } = await exitOf(server)
      assert.equal(code, 1)
      const [line] = fatalLines(server)
      assert.equal(line.event, 'uncaughtException')
      assert.notProperty(line, 'request_id')
      assert.deepEqual(line.in_flight_requests, [])
    } finally {
      await server.stop('SIGKILL')
    }
  }).timeout(60_000)

  test('the fatal line lists the requests in flight; a logger failure still exits', ({
    assert,
  }) => {
    const logged: Record<string, unknown>[] = []
    const exits: number[] = []
    inFlightRequests.add('req-a')
    inFlightRequests.add('req-b')
    try {
      fatal('unhandledRejection', 'a plain string reason', {
        logger: { fatal: (bindings) => logged.push(bindings) },
        exit: (code) => exits.push(code),
      })
      fatal('uncaughtException', new Error('x'), {
        logger: {
          fatal: () => {
            throw new Error('logger down')
          },
        },
        exit: (code) => exits.push(code),
      })
    } finally {
      inFlightRequests.clear()
    }
    assert.deepEqual(exits, [1, 1])
    assert.deepEqual(logged[0].in_flight_requests, ['req-a', 'req-b'])
    assert.equal((logged[0].err as Error).message, 'a plain string reason')
  })
})
