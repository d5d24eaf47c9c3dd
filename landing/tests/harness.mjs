// A minimal test harness: test(name, fn) registers, run() executes in order,
// prints one line per test and a final "N passed, M failed" line.
const tests = []

export function test(name, fn) {
  tests.push({ name, fn })
}

export async function run() {
  let passed = 0
  let failed = 0
  for (const { name, fn } of tests) {
    const started = Date.now()
    try {
      await fn()
      passed++
      console.log(`  ✔ ${name} (${Date.now() - started} ms)`)
    } catch (err) {
      failed++
      console.log(`  ✘ ${name} (${Date.now() - started} ms)`)
      console.log(String(err?.stack ?? err).split('\n').map((l) => `      ${l}`).join('\n'))
    }
  }
  console.log(`\n${passed} passed, ${failed} failed`)
  return failed
}

/** Throws with every problem listed when the list is not empty. */
export function noProblems(problems, what) {
  if (problems.length) throw new Error(`${what}:\n  - ${problems.join('\n  - ')}`)
}

export function ok(value, message) {
  if (!value) throw new Error(message)
}
