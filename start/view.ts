/*
| Globals shared by every Edge template.
*/
import edge from 'edge.js'
import env from '#start/env'
import { formatDate, formatTokens } from '#helpers/formatting'

edge.global('appName', 'vgen')
edge.global('gtmId', env.get('GTM_ID') || '')
edge.global('formatTokens', formatTokens)
edge.global('formatDate', formatDate)

/** JSON for inline scripts: `<` is escaped so a value can never close the script tag. */
edge.global('scriptJson', (value: unknown) =>
  (JSON.stringify(value) ?? 'null').replace(/</g, '\\u003c')
)
