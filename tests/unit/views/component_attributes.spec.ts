import { test } from '@japa/runner'
import edge from 'edge.js'
import { REFLECTED_CORPUS, assertInert } from '#tests/helpers/hostile_input'

/*
 * `$props.toAttrs()` is how every Edge component spreads its props into a
 * tag (start/view.ts makes it escape). These render components straight
 * from templates, so any component that spreads props is covered.
 */
test.group('Component attributes are escaped', (group) => {
  group.setup(() => {
    edge.registerTemplate('components/test_probe', {
      template: `<input {{ $props.merge({ type: 'text', class: ['base'] }).toAttrs() }} />`,
    })
    return () => {
      edge.removeTemplate('components/test_probe')
    }
  })

  test('every value of the corpus stays inside its attribute', async () => {
    for (const payload of REFLECTED_CORPUS) {
      const html = await edge.renderRaw(
        `@!component('components/test_probe', { value: payload, placeholder: payload, title: payload, class: payload })`,
        { payload }
      )
      assertInert(html, payload)
    }
  })

  test('escapes once, keeps booleans, numbers and merged classes', async ({ assert }) => {
    const html = await edge.renderRaw(
      `@!component('components/test_probe', { value: 'a "b" & <c>', required: true, disabled: false, maxlength: 120, class: { on: true, off: false } })`
    )
    assert.equal(
      html.trim(),
      '<input type="text" class="base on" value="a &quot;b&quot; &amp; &lt;c&gt;" required maxlength="120" />'
    )
  })

  test('the form field component escapes its old value', async () => {
    const payload = REFLECTED_CORPUS[0]
    /* What the session provider shares with every request's renderer. */
    const html = await edge
      .createRenderer()
      .share({ old: () => undefined, flashMessages: { get: () => ({}) } })
      .renderRaw(`@!field({ name: 'email', label: 'Email', value: payload })`, { payload })
    assertInert(html, payload)
  })

  /* A form's action is always a route() URL, never user input. */
  test('the form and submit components escape every prop they spread', async () => {
    const renderer = edge.createRenderer().share({ csrfField: () => '' })
    for (const payload of REFLECTED_CORPUS) {
      const form = await renderer.renderRaw(
        `@form({ action: '/tasks', class: payload, 'data-note': payload })\n@end`,
        { payload }
      )
      assertInert(form, payload)
      const button = await renderer.renderRaw(
        `@!submit({ text: payload, confirm: payload, title: payload, name: payload })`,
        { payload }
      )
      assertInert(button, payload)
    }
  })
})

test.group('Local times', () => {
  test('isoTime reads DateTimes, SQLite UTC timestamps and ISO strings; anything else is null', async ({
    assert,
  }) => {
    const { isoTime, utcText } = await import('#helpers/formatting')
    const { DateTime } = await import('luxon')
    assert.equal(isoTime('2026-12-01 09:20:58'), '2026-12-01T09:20:58Z')
    assert.equal(isoTime('2026-12-01T09:20:58.392Z'), '2026-12-01T09:20:58Z')
    assert.equal(
      isoTime(DateTime.fromISO('2026-12-01T10:20:58+01:00', { setZone: true })),
      '2026-12-01T09:20:58Z'
    )
    for (const bad of ['', 'yesterday', '<script>', null, undefined, 42 as never, {} as never]) {
      assert.isNull(isoTime(bad))
    }
    assert.equal(utcText('2026-12-01T09:20:58Z'), '2026-12-01 09:20 UTC')
  })
})
