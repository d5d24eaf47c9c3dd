import { readdir } from 'node:fs/promises'
import { databasePath } from '#config/database'
import mediaStorage from '#integrations/storage/media_storage'
import { resetState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { freePort, startServer, type AppProcess } from '#tests/helpers/app_process'
import {
  openFds,
  rawSignIn,
  sendRaw,
  settleFds,
  target,
  waitUntil,
  type Target,
} from '#tests/helpers/hostile'

/*
 * A real server process for hostile-client tests, with a signed-in user:
 * what such a test asserts after every attack is in `survived()`.
 */

export const HOSTILE_PASSWORD = 'correct horse battery'

async function stagingFiles() {
  try {
    return await readdir(mediaStorage.scratchDir('staging'))
  } catch {
    return []
  }
}

export class HostileServer {
  /** Open fds of the server once warmed up (see `warmUp`). */
  fdLevel = 0
  private baselineFds: string[] = []
  private stagedBefore = new Set<string>()

  constructor(
    readonly server: AppProcess,
    readonly to: Target,
    readonly session: { cookie: string; csrf: string },
    readonly userId: string
  ) {}

  get pid() {
    return this.server.child.pid!
  }

  /** Headers of a signed-in request that passes the CSRF check. */
  signedIn(headers: Record<string, string> = {}) {
    return { 'cookie': this.session.cookie, 'x-csrf-token': this.session.csrf, ...headers }
  }

  /**
   * Runs `warm` (requests that load every lazily loaded module and pool),
   * then records the fd level and the staging files that already exist.
   */
  async warmUp(warm: () => Promise<unknown>) {
    await warm()
    /* Let closed connections and finished writes release their fds. */
    let previous: string[] = []
    let fds = await openFds(this.pid)
    while (fds.length !== previous.length) {
      await new Promise((resolve) => setTimeout(resolve, 150))
      previous = fds
      fds = await openFds(this.pid)
    }
    this.baselineFds = fds
    this.fdLevel = fds.length
    this.stagedBefore = new Set(await stagingFiles())
  }

  /** The fds not in the warm-up's list (each baseline entry used once). */
  private beyondBaseline(fds: string[]) {
    const left = [...this.baselineFds]
    return fds.filter((fd) => {
      const index = left.indexOf(fd)
      if (index === -1) return true
      left.splice(index, 1)
      return false
    })
  }

  /** Staging files created since the warm-up that are still there. */
  async stagingLeftovers(timeoutMs = 3000) {
    const leftovers = async () =>
      (await stagingFiles()).filter((name) => !this.stagedBefore.has(name))
    await waitUntil(async () => (await leftovers()).length === 0, timeoutMs)
    return leftovers()
  }

  async healthStatus() {
    const response = await sendRaw(this.to, { method: 'GET', path: '/health', timeoutMs: 5000 })
    return response.status
  }

  /**
   * After an attack: the process is alive, answers /health, is back at its
   * fd level and left no staging file. Returns what was found, for one
   * deepEqual with a readable failure.
   */
  async survived() {
    const health = await this.healthStatus()
    const fds = await settleFds(this.pid, this.fdLevel)
    const leftovers = await this.stagingLeftovers()
    return {
      alive: this.server.child.exitCode === null,
      health,
      extraFds: fds.count > this.fdLevel ? this.beyondBaseline(fds.fds) : [],
      stagingLeftovers: leftovers.length,
    }
  }

  stop() {
    return this.server.stop('SIGKILL')
  }
}

/** Fresh tables, one user (password HOSTILE_PASSWORD), the app started and signed in. */
export async function startHostileServer(env: Record<string, string> = {}) {
  await resetState()
  const user = await createUser({ password: HOSTILE_PASSWORD })
  const server = await startServer({ port: await freePort(), databasePath, env })
  const to = target(server.baseUrl)
  try {
    const session = await rawSignIn(to, user.email, HOSTILE_PASSWORD)
    return new HostileServer(server, to, session, user.id)
  } catch (error) {
    await server.stop('SIGKILL')
    throw error
  }
}

export const SURVIVED = { alive: true, health: 200, extraFds: [], stagingLeftovers: 0 }
