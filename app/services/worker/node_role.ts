import { existsSync } from 'node:fs'
import { join } from 'node:path'
import env from '#start/env'

/**
 * Behind LiteFS only the primary node may write. LiteFS puts a `.primary`
 * file (holding the primary's name) in its mount on every replica, and
 * removes it on the primary. Without LITEFS_DIR every node is a primary.
 * Checked on every lease renewal: the primary can move at any time.
 */
export function isReplica() {
  const dir = env.get('LITEFS_DIR')
  return Boolean(dir) && existsSync(join(dir!, '.primary'))
}
