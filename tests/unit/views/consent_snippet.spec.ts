import { test } from '@japa/runner'
import edge from 'edge.js'

/* Renders the head snippet with the values start/view.ts takes from the env. */
function render(locals: Record<string, unknown>) {
  return edge.render('partials/gtm_head', {
    gtmId: 'GTM-TEST123',
    cspNonce: 'n0nce',
    consentDefault: 'denied',
    linkerDomains: ['vgen.com', 'app.vgen.com'],
    ...locals,
  })
}

test.group('Consent Mode snippet', () => {
  test('CONSENT_DEFAULT reaches the consent default; the linker domains are JSON', async ({
    assert,
  }) => {
    const denied = await render({})
    assert.include(denied, `})(window, document, "denied", ["vgen.com","app.vgen.com"]);`)
    const granted = await render({ consentDefault: 'granted' })
    assert.include(granted, `})(window, document, "granted", ["vgen.com","app.vgen.com"]);`)
    /* The consent default runs before GTM's start event. */
    assert.isBelow(denied.indexOf(`'consent', 'default'`), denied.indexOf(`event: 'gtm.js'`))
  })

  test('signed in: the user id is pushed, the email never; a hostile id cannot end the script', async ({
    assert,
  }) => {
    const user = { id: '</script><script>alert(1)</script>', email: 'someone@example.com' }
    const html = await render({ auth: { user } })
    assert.include(html, '"userId":"\\u003c/script>\\u003cscript>alert(1)\\u003c/script>"')
    assert.notInclude(html, user.email)
    assert.equal(html.split('</script>').length - 1, 2)
  })

  test('without GTM_ID nothing is rendered', async ({ assert }) => {
    assert.equal((await render({ gtmId: '' })).trim(), '')
  })
})
