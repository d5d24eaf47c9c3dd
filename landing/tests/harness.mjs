// A minimal test harness: test(name, fn) registers, run() executes in order,
// prints one line per test and a final "N passed, M failed" line.
const tests = []
const TIMEOUT_MS = 150_000

export function test(name, fn) {
  tests.push({ name, fn })
}

export async function run() {
  let passed = 0
  let failed = 0
  for (const { name, fn } of tests) {
    const started = Date.now()
    try {
      let timer
      await Promise.race([
        fn(),
        new Promise((_, fail) => {
          timer = setTimeout(() => fail(new Error(`timed out after ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS)
        }),
      ]).finally(() => clearTimeout(timer))
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
