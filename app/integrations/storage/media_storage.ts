import { createReadStream } from 'node:fs'
import { mkdir, rename, rm, stat, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Transform, type Readable } from 'node:stream'
import app from '@adonisjs/core/services/app'
import drive from '@adonisjs/drive/services/main'
import { FSDriver } from 'flydrive/drivers/fs'
import { uuidv7 } from '#helpers/ids'

/**
 * Media files (inputs and results) in the configured drive disk, plus a
 * local scratch area. With the fs disk the scratch area sits inside the
 * storage folder, so finishing an upload is a rename, not a second copy.
 */
export class MediaStorage {
  private get disk() {
    return drive.use()
  }

  /** Root folder of the fs disk, or null for S3/GCS. */
  private get fsRoot(): string | null {
    const driver = this.disk.driver
    if (driver instanceof FSDriver) {
      const location = driver.options.location
      return typeof location === 'string' ? location : fileURLToPath(location)
    }
    return null
  }

  /** Local folder for work files (staged uploads, local generation jobs). */
  scratchDir(name: 'staging' | 'generation') {
    const root = this.fsRoot
    return root ? join(root, '.work', name) : app.tmpPath(name)
  }

  async newStagingPath() {
    const dir = this.scratchDir('staging')
    await mkdir(dir, { recursive: true })
    return join(dir, uuidv7())
  }

  /** Moves a finished local file into storage under `key`. */
  async commitLocalFile(localPath: string, key: string) {
    const root = this.fsRoot
    if (root) {
      const target = join(root, key)
      await mkdir(dirname(target), { recursive: true })
      await rename(localPath, target)
      return
    }
    await this.disk.putStream(key, createReadStream(localPath))
    await unlink(localPath)
  }

  async putStream(key: string, stream: Readable) {
    await this.disk.putStream(key, stream)
  }

  /** A local path for `key` when storage is local disk, else null. */
  localPath(key: string) {
    const root = this.fsRoot
    return root ? join(root, key) : null
  }

  async size(key: string) {
    const local = this.localPath(key)
    if (local) return (await stat(local)).size
    return (await this.disk.getMetaData(key)).contentLength
  }

  async exists(key: string) {
    return this.disk.exists(key)
  }

  /** Streams `key`, or the inclusive byte range [start, end] of it. */
  async open(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const local = this.localPath(key)
    if (local) return createReadStream(local, range ? { start: range.start, end: range.end } : {})
    const stream = await this.disk.getStream(key)
    return range ? stream.pipe(sliceBytes(range.start, range.end)) : stream
  }

  async delete(key: string | null | undefined) {
    if (!key) return
    try {
      await this.disk.delete(key)
    } catch {
      /* Already gone: deleting is idempotent. */
    }
  }

  async deletePrefix(prefix: string) {
    await this.disk.deleteAll(prefix).catch(() => {})
  }

  async removeLocal(path: string) {
    await rm(path, { force: true, recursive: true })
  }
}

/** Passes through only bytes [start, end] of a stream (cloud disks have no range reads here). */
function sliceBytes(start: number, end: number) {
  let position = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const from = Math.max(0, start - position)
      const to = Math.min(chunk.length, end + 1 - position)
      position += chunk.length
      if (to > from) this.push(chunk.subarray(from, to))
      if (position > end) this.push(null)
      callback()
    },
  })
}

export default new MediaStorage()
