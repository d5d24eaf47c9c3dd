import { Parser } from 'htmlparser2'

/*
 * Values an attacker puts in a link or a form to get markup into our pages.
 * Every place that echoes user input back into HTML runs against all of them
 * (tests/functional/security/reflected_input.spec.ts); new forms and
 * components get the same check by adding an echo point there. Each value is
 * short enough for every echoed field (emails: 254, task names: 120).
 */
export const REFLECTED_CORPUS = [
  /* The reported payload: closes the attribute, adds a redirecting meta tag. */
  `"><meta http-equiv="refresh" content="0;url=https://evil.example/">`,
  `'><img src=x onerror=alert(1)>`,
  `" autofocus onfocus="alert(1)`,
  `' autofocus onfocus='alert(1)`,
  `<script>alert(document.domain)</script>`,
  `</textarea></title><svg onload=alert(1)>`,
  `javascript:alert(1)`,
  `&quot;&gt;&lt;i&gt;entities&lt;/i&gt;`,
  `\`backtick\` {{ 7*7 }} @{{ raw }}`,
  /* Unicode: full-width brackets, right-to-left override, line separator, emoji, accents. */
  `ünïcødé ＜script＞ \u202e"><i>rtl</i> \u2028 🎬`,
]

type Found = { elements: string[]; attributes: [string, string, string][]; texts: string[] }

/** Parses a page the way a browser's tokenizer would (entities decoded). */
function parse(html: string): Found {
  const found: Found = { elements: [], attributes: [], texts: [] }
  /* One text node may arrive in several pieces (around entities): joined between tags. */
  let text = ''
  const flush = () => {
    if (text) found.texts.push(text)
    text = ''
  }
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        flush()
        found.elements.push(name)
        for (const [key, value] of Object.entries(attributes)) {
          found.attributes.push([name, key, value])
        }
      },
      onclosetag: flush,
      ontext(piece) {
        text += piece
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true }
  )
  parser.write(html)
  parser.end()
  flush()
  return found
}

/* Elements and attributes none of our pages has: only an injection brings them. */
const FOREIGN_ELEMENTS = new Set(['img', 'svg', 'i'])
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'srcdoc'])

/**
 * The page must carry `payload` as data, never as markup: no element or
 * attribute it would inject, no `javascript:` URL. With `echoed` (what the
 * page shows: the payload, or the cleaned value for fields that clean input
 * first) that value must also be found intact as text or as an attribute
 * value: proof that the field really is echoed here, so the check cannot
 * pass just because nothing was shown. `echoed: null` for pages that must
 * not show the value at all.
 */
export function assertInert(html: string, payload: string, echoed: string | null = payload) {
  const page = parse(html)
  const label = JSON.stringify(payload)
  for (const name of page.elements) {
    if (FOREIGN_ELEMENTS.has(name)) throw new Error(`Injected <${name}> for ${label}`)
  }
  for (const [element, key, value] of page.attributes) {
    if (key.startsWith('on')) throw new Error(`Injected ${key}= on <${element}> for ${label}`)
    if (key === 'http-equiv') throw new Error(`Injected <meta http-equiv> for ${label}`)
    if (URL_ATTRIBUTES.has(key) && /^\s*javascript:/i.test(value)) {
      throw new Error(`javascript: URL in ${key}= on <${element}> for ${label}`)
    }
  }
  const scripts = html.match(/<script\b[^>]*>[\s\S]*?<\/script>/gi) ?? []
  if (scripts.some((script) => script.includes('alert('))) {
    throw new Error(`Injected <script> for ${label}`)
  }
  if (echoed === null) return
  const shown = [...page.texts, ...page.attributes.map(([, , value]) => value)]
  if (!shown.some((value) => value.includes(echoed))) {
    throw new Error(`Not echoed intact anywhere: ${JSON.stringify(echoed)}`)
  }
}
