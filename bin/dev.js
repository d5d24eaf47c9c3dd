/*
 * `npm run dev`: pending migrations, then the app (with the in-process worker) on http://localhost:3333
 * and, when present, the landing's Astro dev server on http://localhost:4321.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/* Pulling new commits often brings new migrations: apply them before serving. */
const migrated = spawnSync('node', ['ace', 'migration:run'], { stdio: 'inherit' })
if (migrated.status !== 0) process.exit(migrated.status ?? 1)

const children = [spawn('node', ['ace', 'serve', '--hmr'], { stdio: 'inherit' })]
if (existsSync('landing/node_modules')) {
  children.push(spawn('npm', ['--prefix', 'landing', 'run', 'dev'], { stdio: 'inherit' }))
}

function stop() {
  for (const child of children) child.kill('SIGTERM')
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
for (const child of children) {
  child.on('exit', (code) => {
    stop()
    process.exitCode = code ?? 0
  })
}
