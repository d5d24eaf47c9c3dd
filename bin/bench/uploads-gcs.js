/*
 * `npm run bench -- uploads-gcs`: bin/bench/uploads.js on DRIVE_DISK=gcs
 * (tus straight into the bucket vs the raw PUT, and cut connections)
 * against the tests' GCS fake, with a 200 MB video.
 */
import { spawnSync } from 'node:child_process'

const result = spawnSync(
  process.execPath,
  ['bin/bench/uploads.js', '--disk', 'gcs', '--size-mb', '200', ...process.argv.slice(2)],
  { stdio: 'inherit' }
)
process.exit(result.status ?? 1)
