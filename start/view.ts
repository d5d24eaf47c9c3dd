/*
| Globals shared by every Edge template, and the escaping of component
| attributes.
*/
import edge, { Template, edgeGlobals } from 'edge.js'
import app from '@adonisjs/core/services/app'
import env from '#start/env'
import { formatDate, formatTokens, isoTime, utcText } from '#helpers/formatting'
import { completeEdgeCache } from '#helpers/edge_cache'
import { linkedDomains } from '#services/analytics/gtm_container'

/* The provider caches templates in production; see completeEdgeCache for what it misses. */
if (app.inProduction) completeEdgeCache(edge)

edge.global('appName', 'vgen')
edge.global('gtmId', env.get('GTM_ID') || '')
/* Consent Mode v2 default and the cross-domain linker (docs/gtm.md). */
edge.global('consentDefault', env.get('CONSENT_DEFAULT') ?? 'denied')
edge.global('landingUrl', (env.get('LANDING_URL') ?? '').replace(/\/+$/, ''))
edge.global('linkerDomains', linkedDomains([env.get('LANDING_URL'), env.get('APP_URL')]))
edge.global('formatTokens', formatTokens)
edge.global('formatDate', formatDate)
edge.global('isoTime', isoTime)
edge.global('utcText', utcText)

/** JSON for inline scripts: `<` is escaped so a value can never close the script tag. */
edge.global('scriptJson', (value: unknown) =>
  (JSON.stringify(value) ?? 'null').replace(/</g, '\\u003c')
)

/**
 * Escapes every value of a props bag the way `{{ }}` escapes text. Strings,
 * class lists and arrays become escaped strings; booleans and numbers stay
 * as they are (edge renders `true` as a bare attribute and drops falsy ones);
 * nested objects (Alpine-style `x-bind` bags) are escaped recursively.
 */
export function escapeAttributeValues(values: Record<string, unknown>) {
  const { escape, classNames } = edgeGlobals.html
  const escaped: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(values)) {
    if (key === 'class' && value) escaped[key] = escape(classNames(value))
    else if (typeof value === 'string') escaped[key] = escape(value)
    else if (Array.isArray(value)) escaped[key] = value.map((item) => escape(String(item)))
    else if (value && typeof value === 'object') {
      escaped[key] = escapeAttributeValues(value as Record<string, unknown>)
    } else escaped[key] = value
  }
  return escaped
}

/*
 * edge.js 6.5's `$props.toAttrs()` — the documented way for a component to
 * spread its props into a tag — writes attribute values unescaped (unlike
 * `html.attrs`), so a prop holding `"><meta …>` closes the attribute. Every
 * component gets escaping toAttrs: the values are escaped, then edge's own
 * serialiser (known attributes only, class merging) runs on them. The props
 * class is not exported, so it is reached through a component state.
 */
const probe = new Template({ compat: false } as never, {}, {}, {} as never)
const propsPrototype = Object.getPrototypeOf(
  probe.getComponentState({}, {}, { filename: '', line: 0, col: 0 }).$props
)
const unescapedToAttrs: (this: unknown) => unknown = propsPrototype.toAttrs
if (typeof unescapedToAttrs !== 'function') {
  throw new Error('edge.js changed its component props: re-check attribute escaping')
}
propsPrototype.toAttrs = function toAttrs(this: { all(): Record<string, unknown> }) {
  const escaped = new propsPrototype.constructor(escapeAttributeValues(this.all()))
  return unescapedToAttrs.call(escaped)
}
