import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import app from '@adonisjs/core/services/app'
import { WebClient, type AppProcess } from '#tests/helpers/app_process'
import { tus, type TusSession } from '#tests/helpers/tus'

/*
 * What the suites of resumable uploads into a bucket (DRIVE_DISK=s3 and
 * gcs) share: a tus session of a real login against the app's process, the
 * upload id of a tus URL, and a watch of the app's disk while bytes flow.
 */

export const PASSWORD = 'correct horse battery'

/** A signed-in tus session (cookie + the CSRF token of the task's page). */
export async function tusSessionOn(
  server: AppProcess,
  email: string,
  taskId: string
): Promise<TusSession> {
  const web = new WebClient(server)
  const login = await web.submit('/login', '/login', { email, password: PASSWORD })
  if (login.headers.get('location') !== '/tasks') throw new Error('login failed')
  return { cookie: web.cookieHeader(), csrf: await web.csrfToken(`/tasks/${taskId}`) }
}

export const idOf = (url: string) => url.split('/').pop()!

/** HEAD's Upload-Offset of a tus upload. */
export async function offsetOf(session: TusSession, url: string) {
  return Number((await tus(session, 'HEAD', url)).headers.get('upload-offset'))
}

/**
 * Watches the app's disk while an upload runs: the largest file seen in the
 * server's temp folder (where a store may buffer a part) and anything under
 * the app's tmp/uploads (the local tus folder, unused with a bucket).
 */
export function watchDisk(serverTmp: string) {
  let largest = 0
  let local: string[] = []
  let stopped = false
  const sample = async () => {
    for (const name of await readdir(serverTmp).catch(() => [] as string[])) {
      const size = await stat(join(serverTmp, name)).then(
        (info) => (info.isFile() ? info.size : 0),
        () => 0
      )
      largest = Math.max(largest, size)
    }
    const inTmpUploads = await readdir(app.tmpPath('uploads')).catch(() => [] as string[])
    if (inTmpUploads.length) local = inTmpUploads
  }
  const loop = (async () => {
    while (!stopped) {
      await sample()
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })()
  return {
    async stop() {
      stopped = true
      await loop
      await sample()
      return { largest, local }
    },
  }
}
