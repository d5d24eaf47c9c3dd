import { test } from '@japa/runner'
import router from '@adonisjs/core/services/router'
import taskService from '#services/tasks/task_service'
import { seededTask } from '#tests/functional/tasks/helpers'
import { leaksInternals, sendRaw } from '#tests/helpers/hostile'
import { fuzzCases, type FuzzIdentity, type FuzzRoute } from '#tests/helpers/route_fuzzer'
import { startHostileServer, type HostileServer } from '#tests/helpers/hostile_server'
import User from '#models/user'

/*
 * Route fuzzer: every route of the router's own list, any method, random
 * and malformed bodies, content types, encodings, huge and missing
 * headers, signed in and signed out, on a real server process. A fixed
 * seed makes it the same run every time. Nothing may answer 5xx, hang,
 * show a stack trace or an internal path, log an error, or end the process.
 */

const SEED = 1313
const REQUESTS = 3000
const CONCURRENCY = 6

/*
 * Documented 5xx answers that are not faults: a readiness probe saying
 * "not ready", and a payment postback that cannot be verified with the
 * gateway now (503 so that the gateway retries it; docs/payments.md).
 */
function documented5xx(route: string, body: string) {
  if (route.endsWith(' /health/ready')) return true
  return route === 'POST /webhooks/payments/:gateway' && body.includes('"gateway_unavailable"')
}

function routerRoutes(): FuzzRoute[] {
  return Object.values(router.toJSON())
    .flat()
    .map((route) => ({ pattern: route.pattern, methods: route.methods }))
}

test.group('Route fuzzer', (group) => {
  let app: HostileServer

  group.setup(async () => {
    app = await startHostileServer()
    return () => app.stop().then(() => {})
  })

  test('every route, any method, hostile input: no 5xx, no hang, no stack trace, no crash', async ({
    assert,
  }) => {
    const routes = routerRoutes()
    assert.isAtLeast(routes.length, 30, 'the router list is read')
    const user = await User.findOrFail(app.userId)
    await user.merge({ balance: 100_000 }).save()
    const task = await seededTask(user, 'lipsync')
    const run = await taskService.launch(user.id, task.id)
    const spare = await seededTask(user, 'restyle')

    const identities: FuzzIdentity[] = [
      { name: 'signed out', headers: {} },
      { name: 'signed in', headers: app.signedIn() },
      { name: 'signed in, no CSRF token', headers: { cookie: app.session.cookie } },
      {
        name: 'forged session',
        headers: { 'cookie': 'adonis-session=forged; vgen_session=x', 'x-csrf-token': 'forged' },
      },
      { name: 'admin', headers: { authorization: `Bearer ${process.env.ADMIN_TOKEN}` } },
    ]
    const cases = [
      ...fuzzCases({
        seed: SEED,
        count: REQUESTS,
        /* Logging out would end the signed-in identity for the rest of the run. */
        routes: routes.filter((route) => !route.pattern.startsWith('/logout')),
        identities,
        fill: {
          id: [task.id, spare.id],
          runId: [run.id],
          kind: ['video', 'audio', 'image'],
          gateway: ['dev', 'apay', 'unknown'],
          provider: ['syncso', 'replicate', 'fal', 'unknown'],
          token: ['x'.repeat(43)],
        },
      }),
    ]
    const logStart = app.server.lines.length
    const failures: string[] = []
    const statuses = new Map<number | null, number>()
    const started = Date.now()
    let next = 0
    const worker = async () => {
      while (next < cases.length) {
        const { request, route, identity } = cases[next++]
        const response = await sendRaw(app.to, request)
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
        const where = `${identity} ${request.method} ${request.path.slice(0, 120)} (${route})`
        if (response.status === null) {
          failures.push(`${where}: no answer (${response.end})`)
        } else if (response.status >= 500 && !documented5xx(route, response.body)) {
          failures.push(`${where}: ${response.status} ${response.body.slice(0, 200)}`)
        }
        if (leaksInternals(response.body)) {
          failures.push(`${where}: internals in the body ${response.body.slice(0, 300)}`)
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    const seconds = (Date.now() - started) / 1000

    const errorLines = app.server.lines
      .slice(logStart)
      .filter((line) => /"level":(5\d|60)\b/.test(line))
      .map((line) => line.slice(0, 400))
    console.log(
      `route fuzzer: ${cases.length} requests over ${routes.length} routes in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`
    )
    assert.deepEqual(failures.slice(0, 30), [], `${failures.length} failures`)
    assert.deepEqual(errorLines.slice(0, 10), [], 'no error in the log')
    assert.isNull(app.server.child.exitCode, 'the process is alive')
    assert.equal(await app.healthStatus(), 200)
  }).timeout(120_000)
})
