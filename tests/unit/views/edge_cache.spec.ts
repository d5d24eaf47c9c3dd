import { test } from '@japa/runner'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Edge } from 'edge.js'
import { completeEdgeCache } from '#helpers/edge_cache'

const PAGE = `@box()
<ul>
@each(item in items)
@include('partials/item')
@end
</ul>
@include('partials/foot')
@end
`

test.group('Edge production cache', (group) => {
  let root: string
  group.each.setup(async () => {
    root = await mkdtemp(join(tmpdir(), 'edge-cache-'))
    await mkdir(join(root, 'partials'))
    await mkdir(join(root, 'components'))
    await writeFile(join(root, 'partials/item.edge'), '<li>{{ item }} of {{ title }}</li>\n')
    await writeFile(join(root, 'partials/foot.edge'), '<footer>{{ title }}</footer>\n')
    await writeFile(join(root, 'components/box.edge'), '<div>{{{ await $slots.main() }}}</div>\n')
    await writeFile(join(root, 'page.edge'), PAGE)
    return () => rm(root, { recursive: true, force: true })
  })

  /* An Edge set up like the provider's in production (cache turned on after creation), with counters under the cache. */
  function countedEdge() {
    const edge = new Edge()
    edge.configure({ cache: true })
    edge.mount(root)
    const counts = { compiles: 0, listings: 0 }
    for (const compiler of [edge.compiler, edge.asyncCompiler]) {
      const compile = compiler.compile.bind(compiler)
      compiler.compile = (path, locals) => {
        counts.compiles += 1
        return compile(path, locals)
      }
    }
    const list = edge.loader.listComponents.bind(edge.loader)
    edge.loader.listComponents = () => {
      counts.listings += 1
      return list()
    }
    completeEdgeCache(edge)
    return { edge, counts }
  }

  test('partials (with and without loop variables) compile once and render current values', async ({
    assert,
  }) => {
    const { edge, counts } = countedEdge()
    const first = await edge.render('page', { items: ['a', 'b'], title: 'T' })
    const afterFirst = counts.compiles
    const second = await edge.render('page', { items: ['c', 'd', 'e'], title: 'U' })

    assert.match(first, /<li>a of T<\/li>\s*<li>b of T<\/li>/)
    assert.include(first, '<footer>T</footer>')
    assert.match(second, /<li>c of U<\/li>\s*<li>d of U<\/li>\s*<li>e of U<\/li>/)
    assert.include(second, '<footer>U</footer>')
    assert.notInclude(second, 'of T')
    assert.isAbove(afterFirst, 0)
    assert.equal(counts.compiles, afterFirst, 'the second render compiles nothing')
  })

  test('the components folders are read once, and components still render', async ({ assert }) => {
    const { edge, counts } = countedEdge()
    for (let index = 0; index < 3; index++) {
      assert.include(await edge.render('page', { items: ['x'], title: 'T' }), '<div>')
    }
    assert.equal(counts.listings, 1)
  })
})
