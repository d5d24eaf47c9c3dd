/*
 * `npm run bench`: every benchmark script under bin/bench (each prints its
 * numbers and updates its section of docs/benchmarks.md). Pass names to run
 * only some: `npm run bench -- http wallet`.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'

const wanted = process.argv.slice(2)
const scripts = readdirSync('bin/bench')
  .filter((name) => name.endsWith('.js') && name !== 'report.js')
  .map((name) => name.replace(/\.js$/, ''))
  .filter((name) => wanted.length === 0 || wanted.includes(name))

let failed = false
for (const name of scripts) {
  console.log(`\n=== bench: ${name}`)
  const result = spawnSync('node', [`bin/bench/${name}.js`], { stdio: 'inherit' })
  if (result.status !== 0) failed = true
}
if (wanted.length === 0 && existsSync('landing/package.json')) {
  console.log('\n=== bench: landing (Lighthouse)')
  const result = spawnSync('npm', ['--prefix', 'landing', 'run', 'bench'], { stdio: 'inherit' })
  if (result.status !== 0) failed = true
}
process.exit(failed ? 1 : 0)
