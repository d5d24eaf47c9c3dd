import { test } from '@japa/runner'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

/* Every .ts file below a folder of the app. */
async function sources(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true })
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
}

test.group('Layout', () => {
  test('models, integrations, helpers and config never import services', async ({ assert }) => {
    const offenders: string[] = []
    for (const folder of ['app/models', 'app/integrations', 'app/helpers', 'config']) {
      for (const file of await sources(folder)) {
        const text = await readFile(file, 'utf8')
        if (/(from\s+|import\()\s*'#services\//.test(text)) offenders.push(file)
      }
    }
    assert.deepEqual(offenders, [])
  })
})
