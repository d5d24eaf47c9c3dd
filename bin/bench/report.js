import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const FILE = 'docs/benchmarks.md'

/** Replaces (or appends) the `## <title>` section of docs/benchmarks.md. */
export function updateBenchmarkSection(title, body) {
  const header = '# Benchmarks\n\nWritten by `npm run bench` (each script updates its own section).\n'
  let text = existsSync(FILE) ? readFileSync(FILE, 'utf8') : header
  const section = `## ${title}\n\n${body.trim()}\n`
  /* The title is text, not a pattern: "Generation runs (1,000 runs, …)" has parentheses. */
  const escaped = title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const pattern = new RegExp(`## ${escaped}\\n[\\s\\S]*?(?=\\n## |$)`)
  /* A function replacement: a "$" in the body stays text. */
  text = pattern.test(text) ? text.replace(pattern, () => section) : `${text.trimEnd()}\n\n${section}`
  writeFileSync(FILE, text.endsWith('\n') ? text : `${text}\n`)
}
