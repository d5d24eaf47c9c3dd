/*
| Globals shared by every Edge template.
*/
import edge from 'edge.js'
import env from '#start/env'

edge.global('appName', 'vgen')
edge.global('gtmId', env.get('GTM_ID') || '')
edge.global('formatTokens', (value: number) => new Intl.NumberFormat('en-US').format(value))
edge.global('formatDate', (value: { toFormat?: (f: string) => string } | null | undefined) =>
  value?.toFormat ? value.toFormat('yyyy-LL-dd HH:mm') : ''
)

/** JSON for inline scripts: `<` is escaped so a value can never close the script tag. */
edge.global('scriptJson', (value: unknown) =>
  (JSON.stringify(value) ?? 'null').replace(/</g, '\\u003c')
)
