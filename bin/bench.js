/*
 * `npm run bench`: every benchmark script under bin/bench (each prints its
 * numbers and updates its section of docs/benchmarks.md). Pass names to run
 * only some: `npm run bench -- http wallet`.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'

/* Benchmarks that are another script's run with other arguments. */
const VARIANTS = {
  /* Resumable uploads straight into the bucket vs the raw PUT, against the tests' local stores. */
  'uploads-s3': ['uploads', '--disk', 's3', '--size-mb', '200'],
  'uploads-gcs': ['uploads', '--disk', 'gcs', '--size-mb', '200'],
}
/* Modules the scripts share, not benchmarks themselves. */
const LIBRARIES = ['report.js', 'upload_kit.js']

const wanted = process.argv.slice(2)
const scripts = readdirSync('bin/bench')
  .filter((name) => name.endsWith('.js') && !LIBRARIES.includes(name))
  .map((name) => name.replace(/\.js$/, ''))
  .concat(Object.keys(VARIANTS))
  .filter((name) => wanted.length === 0 || wanted.includes(name))

let failed = false
for (const name of scripts) {
  console.log(`\n=== bench: ${name}`)
  const [script, ...args] = VARIANTS[name] ?? [name]
  const result = spawnSync('node', [`bin/bench/${script}.js`, ...args], { stdio: 'inherit' })
  if (result.status !== 0) failed = true
}
if (wanted.length === 0 && existsSync('landing/package.json')) {
  console.log('\n=== bench: landing (Lighthouse)')
  const result = spawnSync('npm', ['--prefix', 'landing', 'run', 'bench'], { stdio: 'inherit' })
  if (result.status !== 0) failed = true
}
process.exit(failed ? 1 : 0)
