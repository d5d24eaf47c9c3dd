import { test } from '@japa/runner'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import edge from 'edge.js'
import app from '@adonisjs/core/services/app'
import { REFLECTED_CORPUS, assertInert } from '#tests/helpers/hostile_input'

/* What the session and shield providers share with every request's renderer. */
const renderer = () =>
  edge.createRenderer().share({
    csrfField: () => edge.globals.html.safe(`<input type='hidden' name='_csrf' value='token-1'>`),
    old: () => undefined,
    flashMessages: { get: () => ({}) },
  })

async function edgeFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory() ? edgeFiles(join(dir, entry.name)) : [join(dir, entry.name)]
    )
  )
  return nested.flat().filter((file) => file.endsWith('.edge'))
}

test.group('Form components', () => {
  test('@form is a POST with the CSRF field and its attributes; @!submit asks when told', async ({
    assert,
  }) => {
    const html = await renderer().renderRaw(
      [
        `@form({ action: '/tasks/1/delete?a=1&b=2', class: 'inline-form', novalidate: true })`,
        `  @!submit({ text: 'Delete task', confirm: 'Delete “x”?', class: 'secondary', disabled: false })`,
        `@end`,
      ].join('\n')
    )
    assert.include(
      html,
      `<form method="POST" action="/tasks/1/delete?a=1&amp;b=2" class="inline-form" novalidate>`
    )
    assert.include(html, `<input type='hidden' name='_csrf' value='token-1'>`)
    assert.include(
      html,
      `<button type="submit" data-confirm="Delete “x”?" class="secondary">Delete task</button>`
    )
    const plain = await renderer().renderRaw(`@!submit({ text: 'Log in' })`)
    assert.equal(plain.trim(), `<button type="submit">Log in</button>`)
  })

  test('every value given to the form components stays inert', async () => {
    for (const payload of REFLECTED_CORPUS) {
      const html = await renderer().renderRaw(
        [
          `@form({ action: '/tasks', id: payload, class: payload, 'data-x': payload })`,
          `  @!submit({ text: payload, confirm: payload, value: payload })`,
          `@end`,
        ].join('\n'),
        { payload }
      )
      assertInert(html, payload)
    }
  })

  test('no page writes a form or a CSRF field by hand', async ({ assert }) => {
    const views = app.makePath('resources', 'views')
    for (const file of await edgeFiles(views)) {
      const name = relative(views, file)
      if (name === 'components/form.edge') continue
      const source = await readFile(file, 'utf8')
      assert.notMatch(source, /csrfField\(|<form[\s>]/, `${name} uses @form`)
    }
  })
})
