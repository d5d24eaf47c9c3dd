/*
 * The GTM web container as code: `node ace gtm:export` prints it in the
 * format of GTM's own "Export container" (exportFormatVersion 2), so
 * "Admin → Import container" loads it. It holds one Google tag (GA4) that
 *
 *  - fires once per page load: on All Pages when analytics consent is
 *    already granted, else on the `vgen_consent_granted` event the cookie
 *    banner pushes right after a visitor accepts (so the first page view of
 *    a visitor who accepts is not lost);
 *  - needs `analytics_storage` (GTM's additional consent checks), on top of
 *    the Consent Mode v2 defaults the pages set before GTM loads;
 *  - sends `user_id` from the dataLayer's `userId` (signed-in app pages push
 *    it; the email is never in the dataLayer) and the cross-domain linker
 *    from the dataLayer's `gaLinker` (both sites push
 *    `{ domains: [landing, app], accept_incoming: true }`), read through
 *    Data Layer Variables: no Custom JavaScript variable, which would need
 *    'unsafe-eval' in our CSP.
 */

/** GTM's id of the built-in "All Pages" (page view) trigger. */
export const ALL_PAGES_TRIGGER_ID = '2147479553'
/** The dataLayer event the consent banner pushes after "Accept". */
export const CONSENT_GRANTED_EVENT = 'vgen_consent_granted'

const MEASUREMENT_ID = /^G-[A-Z0-9]{4,16}$/
const CONTAINER_ID = /^GTM-[A-Z0-9]{4,12}$/

export interface ContainerOptions {
  measurementId: string
  /** The app's and the landing's URLs: their hosts are the linked domains. */
  appUrl: string
  landingUrl?: string
  /** The container's public id (GTM_ID); only informative on import. */
  publicId?: string
  /** Fixed in tests and for the committed copy, so the output is stable. */
  exportTime?: Date
}

type Parameter =
  | { type: 'TEMPLATE' | 'BOOLEAN' | 'INTEGER'; key?: string; value: string }
  | { type: 'LIST'; key: string; list: Parameter[] }
  | { type: 'MAP'; key?: string; map: Parameter[] }

export function isMeasurementId(value: string) {
  return MEASUREMENT_ID.test(value)
}

/** The host names GA must link (www. stripped: the linker matches subdomains). */
export function linkedDomains(urls: (string | undefined)[]) {
  const hosts = urls
    .filter((url): url is string => !!url)
    .map((url) => new URL(url).hostname.replace(/^www\./, ''))
  return [...new Set(hosts)]
}

const template = (key: string, value: string): Parameter => ({ type: 'TEMPLATE', key, value })
const row = (parameter: string, value: string): Parameter => ({
  type: 'MAP',
  map: [template('parameter', parameter), template('parameterValue', value)],
})

/** Builds the container export. Throws on a malformed measurement or container id. */
export function buildGtmContainer(options: ContainerOptions) {
  const measurementId = options.measurementId.trim().toUpperCase()
  if (!isMeasurementId(measurementId)) {
    throw new Error(
      `The measurement id must look like G-XXXXXXX, got ${JSON.stringify(options.measurementId)}`
    )
  }
  const publicId = (options.publicId || 'GTM-XXXXXXX').toUpperCase()
  if (!CONTAINER_ID.test(publicId)) {
    throw new Error(`GTM_ID must look like GTM-XXXXXXX, got ${JSON.stringify(options.publicId)}`)
  }
  const domains = linkedDomains([options.landingUrl, options.appUrl])
  const time = options.exportTime ?? new Date()
  const fingerprint = String(time.getTime())
  /* Import ignores these ids and files everything under the chosen container. */
  const owner = { accountId: '0', containerId: '0' }

  const variable = [
    {
      ...owner,
      variableId: '1',
      name: 'DLV - userId',
      type: 'v',
      notes:
        'The signed-in user id (UUID) the app pushes before GTM loads; undefined when signed out.',
      parameter: [
        { type: 'INTEGER', key: 'dataLayerVersion', value: '2' },
        { type: 'BOOLEAN', key: 'setDefaultValue', value: 'false' },
        template('name', 'userId'),
      ],
      fingerprint,
      formatValue: {},
    },
    {
      ...owner,
      variableId: '2',
      name: 'DLV - gaLinker',
      type: 'v',
      notes: `Cross-domain linker both sites push before GTM loads: { domains: ${JSON.stringify(domains)}, accept_incoming: true }.`,
      parameter: [
        { type: 'INTEGER', key: 'dataLayerVersion', value: '2' },
        { type: 'BOOLEAN', key: 'setDefaultValue', value: 'false' },
        template('name', 'gaLinker'),
      ],
      fingerprint,
      formatValue: {},
    },
  ]

  const trigger = [
    {
      ...owner,
      triggerId: '3',
      name: 'Consent granted',
      type: 'CUSTOM_EVENT',
      notes: 'Pushed by the cookie banner after "Accept": the page view of that page is measured.',
      customEventFilter: [
        {
          type: 'EQUALS',
          parameter: [template('arg0', '{{_event}}'), template('arg1', CONSENT_GRANTED_EVENT)],
        },
      ],
      fingerprint,
    },
  ]

  const tag = [
    {
      ...owner,
      tagId: '4',
      name: 'Google tag (GA4)',
      type: 'googtag',
      notes:
        'GA4 page views for the landing and the app; user_id for signed-in users (never the email).',
      parameter: [
        template('tagId', measurementId),
        {
          type: 'LIST',
          key: 'configSettingsTable',
          list: [row('user_id', '{{DLV - userId}}'), row('linker', '{{DLV - gaLinker}}')],
        },
      ] satisfies Parameter[],
      fingerprint,
      firingTriggerId: [ALL_PAGES_TRIGGER_ID, '3'],
      tagFiringOption: 'ONCE_PER_LOAD',
      monitoringMetadata: { type: 'MAP' },
      consentSettings: {
        consentStatus: 'NEEDED',
        consentType: { type: 'LIST', list: [{ type: 'TEMPLATE', value: 'analytics_storage' }] },
      },
    },
  ]

  const builtInVariable = [
    { ...owner, type: 'PAGE_URL', name: 'Page URL' },
    { ...owner, type: 'PAGE_HOSTNAME', name: 'Page Hostname' },
    { ...owner, type: 'PAGE_PATH', name: 'Page Path' },
    { ...owner, type: 'REFERRER', name: 'Referrer' },
    { ...owner, type: 'EVENT', name: 'Event' },
  ]

  const pad = (n: number) => String(n).padStart(2, '0')
  const exportTime = `${time.getUTCFullYear()}-${pad(time.getUTCMonth() + 1)}-${pad(time.getUTCDate())} ${pad(time.getUTCHours())}:${pad(time.getUTCMinutes())}:${pad(time.getUTCSeconds())}`

  return {
    exportFormatVersion: 2,
    exportTime,
    containerVersion: {
      path: 'accounts/0/containers/0/versions/0',
      ...owner,
      containerVersionId: '0',
      name: 'vgen: GA4 with user id, cross-domain and consent',
      description: `Google tag ${measurementId}; linked domains ${domains.join(', ')}. Generated by node ace gtm:export.`,
      container: {
        path: 'accounts/0/containers/0',
        ...owner,
        name: 'vgen',
        publicId,
        usageContext: ['WEB'],
        fingerprint,
        tagManagerUrl:
          'https://tagmanager.google.com/#/container/accounts/0/containers/0/workspaces?apiLink=container',
        features: {
          supportUserPermissions: true,
          supportEnvironments: true,
          supportWorkspaces: true,
          supportGtagConfigs: false,
          supportBuiltInVariables: true,
          supportClients: false,
          supportFolders: true,
          supportTags: true,
          supportTemplates: true,
          supportTriggers: true,
          supportVariables: true,
          supportVersions: true,
          supportZones: true,
          supportTransformations: false,
        },
        tagIds: [publicId],
      },
      tag,
      trigger,
      variable,
      builtInVariable,
      fingerprint,
      tagManagerUrl:
        'https://tagmanager.google.com/#/versions/accounts/0/containers/0/versions/0?apiLink=version',
    },
  }
}

export type GtmContainerExport = ReturnType<typeof buildGtmContainer>

/** GTM's built-in trigger ids a tag may fire on without defining them. */
const BUILT_IN_TRIGGERS = new Set([
  ALL_PAGES_TRIGGER_ID,
  '2147479572' /* Initialization */,
  '2147479573' /* Consent Initialization */,
])
/** `{{_event}}` and friends are the internal names of built-in variables. */
const INTERNAL_NAMES: Record<string, string> = { _event: 'EVENT', _url: 'PAGE_URL' }

function referencedVariables(value: unknown): string[] {
  const text = JSON.stringify(value)
  return [...text.matchAll(/\{\{([^{}]+)\}\}/g)].map((match) => match[1])
}

/**
 * What GTM's import would trip over, as a list (empty = importable): the
 * fields GTM needs, unique ids, and every trigger and variable a tag or a
 * trigger references must exist (or be a built-in one).
 */
export function containerProblems(exported: any): string[] {
  const problems: string[] = []
  if (exported?.exportFormatVersion !== 2) problems.push('exportFormatVersion must be 2')
  if (typeof exported?.exportTime !== 'string') problems.push('exportTime is missing')
  const version = exported?.containerVersion
  if (!version || typeof version !== 'object') return [...problems, 'containerVersion is missing']
  if (!version.container?.publicId) problems.push('containerVersion.container.publicId is missing')
  if (
    !Array.isArray(version.container?.usageContext) ||
    !version.container.usageContext.includes('WEB')
  ) {
    problems.push('the container must be a WEB container')
  }
  const lists = { tag: 'tagId', trigger: 'triggerId', variable: 'variableId' } as const
  const ids = new Set<string>()
  for (const [list, idKey] of Object.entries(lists)) {
    const items = version[list] ?? []
    if (!Array.isArray(items)) {
      problems.push(`${list} must be a list`)
      continue
    }
    const names = new Set<string>()
    for (const item of items) {
      const id = item?.[idKey]
      if (typeof id !== 'string' || !/^\d+$/.test(id))
        problems.push(`${list} "${item?.name}" has no numeric ${idKey}`)
      else if (ids.has(id)) problems.push(`id ${id} is used twice`)
      else ids.add(id)
      if (!item?.name || typeof item.type !== 'string')
        problems.push(`${list} ${id} needs a name and a type`)
      else if (names.has(item.name)) problems.push(`two ${list}s are named "${item.name}"`)
      else names.add(item.name)
    }
  }
  const triggerIds = new Set((version.trigger ?? []).map((t: any) => t.triggerId))
  const variableNames = new Set((version.variable ?? []).map((v: any) => v.name))
  const builtIns = new Set((version.builtInVariable ?? []).map((b: any) => b.type))
  const builtInNames = new Set((version.builtInVariable ?? []).map((b: any) => b.name))
  const checkVariables = (owner: string, value: unknown) => {
    for (const name of referencedVariables(value)) {
      const internal = INTERNAL_NAMES[name]
      if (internal ? builtIns.has(internal) : variableNames.has(name) || builtInNames.has(name))
        continue
      problems.push(
        `${owner} references the variable {{${name}}}, which the container does not define`
      )
    }
  }
  for (const tag of version.tag ?? []) {
    const fires = tag.firingTriggerId ?? []
    if (!Array.isArray(fires) || fires.length === 0)
      problems.push(`tag "${tag.name}" has no firing trigger`)
    for (const id of [...fires, ...(tag.blockingTriggerId ?? [])]) {
      if (!triggerIds.has(id) && !BUILT_IN_TRIGGERS.has(id))
        problems.push(`tag "${tag.name}" fires on trigger ${id}, which does not exist`)
    }
    checkVariables(`tag "${tag.name}"`, tag.parameter)
    const consent = tag.consentSettings
    if (consent && !['NOT_SET', 'NOT_NEEDED', 'NEEDED'].includes(consent.consentStatus)) {
      problems.push(`tag "${tag.name}" has an unknown consentStatus ${consent.consentStatus}`)
    }
  }
  for (const trigger of version.trigger ?? []) {
    checkVariables(`trigger "${trigger.name}"`, [
      trigger.customEventFilter,
      trigger.filter,
      trigger.autoEventFilter,
    ])
  }
  for (const variable of version.variable ?? [])
    checkVariables(`variable "${variable.name}"`, variable.parameter)
  return problems
}
