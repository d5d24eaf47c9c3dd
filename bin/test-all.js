/*
 * `npm test`: lint, typecheck, every Japa suite (unit, functional, browser)
 * and the landing checks. Runs every step, prints a summary, and exits
 * non-zero if any step failed.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'

const steps = [
  { name: 'lint', cmd: 'npx', args: ['eslint', '.'] },
  { name: 'typecheck', cmd: 'npm', args: ['run', '--silent', 'typecheck'] },
  { name: 'app tests', cmd: 'node', args: ['ace', 'test'], counts: true },
]
if (existsSync('landing/package.json')) {
  steps.push({ name: 'landing', cmd: 'npm', args: ['--prefix', 'landing', 'test'], counts: true })
}

function run(step) {
  return new Promise((resolve) => {
    let output = ''
    const child = spawn(step.cmd, step.args, { stdio: ['ignore', 'pipe', 'pipe'] })
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk) => {
        process.stdout.write(chunk)
        output += chunk.toString()
      })
    }
    child.on('close', (code) => resolve({ code: code ?? 1, output }))
  })
}

/* Reads "N passed" / "N failed" from a runner's closing lines. */
function counts(output) {
   
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '')
  const lines = plain.trim().split('\n').slice(-30).join('\n')
  const passed = [...lines.matchAll(/(\d+) passed/g)].map((m) => Number(m[1])).pop() ?? 0
  const failed = [...lines.matchAll(/(\d+) failed/g)].map((m) => Number(m[1])).pop() ?? 0
  return { passed, failed }
}

let passed = 0
let failed = 0
const summary = []
for (const step of steps) {
  console.log(`\n=== ${step.name}: ${step.cmd} ${step.args.join(' ')}`)
  const result = await run(step)
  const ok = result.code === 0
  if (step.counts) {
    const c = counts(result.output)
    passed += c.passed
    failed += c.failed
    if (!ok && c.failed === 0) failed += 1
  } else {
    if (ok) passed += 1
    else failed += 1
  }
  summary.push(`${ok ? 'ok  ' : 'FAIL'}  ${step.name}`)
}

console.log('\n=== summary')
for (const line of summary) console.log(line)
const anyFailed = summary.some((line) => line.startsWith('FAIL'))
console.log(`total: ${passed} passed, ${failed} failed`)
process.exit(anyFailed ? 1 : 0)
