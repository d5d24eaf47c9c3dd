/*
 * `npm run bench -- uploads-s3`: bin/bench/uploads.js on DRIVE_DISK=s3
 * (tus straight into the bucket vs the raw PUT, and cut connections)
 * against the tests' local S3 server, with a 200 MB video.
 */
import { spawnSync } from 'node:child_process'

const result = spawnSync(
  process.execPath,
  ['bin/bench/uploads.js', '--disk', 's3', '--size-mb', '200', ...process.argv.slice(2)],
  { stdio: 'inherit' }
)
process.exit(result.status ?? 1)
