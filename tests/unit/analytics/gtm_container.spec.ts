import { test } from '@japa/runner'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import app from '@adonisjs/core/services/app'
import {
  ALL_PAGES_TRIGGER_ID,
  CONSENT_GRANTED_EVENT,
  buildGtmContainer,
  containerProblems,
} from '#services/analytics/gtm_container'

const OPTIONS = {
  measurementId: 'G-XXXXXXX',
  appUrl: 'https://app.vgen.com',
  landingUrl: 'https://www.vgen.com',
  exportTime: new Date('2026-12-01T00:00:00Z'),
}

/** Runs `node ace gtm:export` in its own process, like an operator would. */
function aceExport(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['ace.js', 'gtm:export', ...args], {
      cwd: app.makePath(),
      env: { ...process.env, NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

const googleTag = (exported: any) =>
  exported.containerVersion.tag.find((t: any) => t.type === 'googtag')
const settings = (tag: any) =>
  Object.fromEntries(
    tag.parameter
      .find((p: any) => p.key === 'configSettingsTable')
      .list.map((row: any) => [row.map[0].value, row.map[1].value])
  )

test.group('GTM container export', () => {
  test('is a GTM export (format 2, web container) with no dangling reference', ({ assert }) => {
    const exported = JSON.parse(JSON.stringify(buildGtmContainer(OPTIONS)))
    assert.equal(exported.exportFormatVersion, 2)
    assert.match(exported.exportTime, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    assert.deepEqual(exported.containerVersion.container.usageContext, ['WEB'])
    assert.deepEqual(containerProblems(exported), [])
  })

  test('the Google tag: measurement id, All Pages, analytics_storage required, once per page', ({
    assert,
  }) => {
    const exported = buildGtmContainer(OPTIONS)
    const tag = googleTag(exported)
    assert.deepInclude(tag.parameter, { type: 'TEMPLATE', key: 'tagId', value: 'G-XXXXXXX' })
    assert.include(tag.firingTriggerId, ALL_PAGES_TRIGGER_ID)
    assert.equal(tag.tagFiringOption, 'ONCE_PER_LOAD')
    assert.deepEqual(tag.consentSettings, {
      consentStatus: 'NEEDED',
      consentType: { type: 'LIST', list: [{ type: 'TEMPLATE', value: 'analytics_storage' }] },
    })
    /* The other trigger is the banner's "accepted" event. */
    const other = exported.containerVersion.trigger.find((t) =>
      tag.firingTriggerId.includes(t.triggerId)
    )!
    assert.equal(other.type, 'CUSTOM_EVENT')
    assert.deepInclude(other.customEventFilter[0].parameter, {
      type: 'TEMPLATE',
      key: 'arg1',
      value: CONSENT_GRANTED_EVENT,
    })
  })

  test('user_id comes from the dataLayer userId, the linker from gaLinker; no email anywhere', ({
    assert,
  }) => {
    const exported = buildGtmContainer(OPTIONS)
    const config = settings(googleTag(exported))
    assert.deepEqual(config, { user_id: '{{DLV - userId}}', linker: '{{DLV - gaLinker}}' })
    const dlv = (name: string) =>
      exported.containerVersion.variable.find((v) => `{{${v.name}}}` === name)!
    assert.equal(dlv(config.user_id).type, 'v')
    assert.deepInclude(dlv(config.user_id).parameter, {
      type: 'TEMPLATE',
      key: 'name',
      value: 'userId',
    })
    assert.deepInclude(dlv(config.linker).parameter, {
      type: 'TEMPLATE',
      key: 'name',
      value: 'gaLinker',
    })
    assert.include(exported.containerVersion.description, 'vgen.com, app.vgen.com')
    /* No variable reads an email and no tag sends one. */
    const wiring = [exported.containerVersion.variable.map((v) => v.parameter), config]
    assert.notMatch(JSON.stringify(wiring), /email/i)
  })

  test('the checker catches what GTM import would reject', ({ assert }) => {
    const broken = () => JSON.parse(JSON.stringify(buildGtmContainer(OPTIONS)))

    const danglingTrigger = broken()
    danglingTrigger.containerVersion.tag[0].firingTriggerId.push('99')
    assert.include(
      containerProblems(danglingTrigger).join('\n'),
      'trigger 99, which does not exist'
    )

    const danglingVariable = broken()
    danglingVariable.containerVersion.variable.shift()
    assert.include(containerProblems(danglingVariable).join('\n'), '{{DLV - userId}}')

    const duplicateId = broken()
    duplicateId.containerVersion.trigger[0].triggerId = duplicateId.containerVersion.tag[0].tagId
    assert.include(containerProblems(duplicateId).join('\n'), 'used twice')

    const noEventBuiltIn = broken()
    noEventBuiltIn.containerVersion.builtInVariable = []
    assert.include(containerProblems(noEventBuiltIn).join('\n'), '{{_event}}')

    assert.include(containerProblems({ exportFormatVersion: 1 }).join('\n'), 'exportFormatVersion')
    assert.deepEqual(containerProblems(broken()), [])
  })

  test('refuses a malformed measurement id instead of exporting it', ({ assert }) => {
    for (const bad of ['UA-12345-1', 'G-', 'G-ABC"><script>', 'GTM-ABC123']) {
      assert.throws(() => buildGtmContainer({ ...OPTIONS, measurementId: bad }), /G-XXXXXXX/)
    }
  })

  test('the copy in docs/ is what the command prints for G-XXXXXXX', async ({ assert }) => {
    const committed = JSON.parse(await readFile(app.makePath('docs/gtm-container.json'), 'utf8'))
    const fresh = buildGtmContainer({ ...OPTIONS, exportTime: undefined })
    assert.deepEqual(containerProblems(committed), [])
    const strip = (value: any) =>
      JSON.parse(JSON.stringify(value, (key, v) => (key === 'fingerprint' ? undefined : v)))
    for (const list of ['tag', 'trigger', 'variable', 'builtInVariable'] as const) {
      assert.deepEqual(
        strip(committed.containerVersion[list]),
        strip(fresh.containerVersion[list]),
        list
      )
    }
  })

  test('node ace gtm:export prints the container; a bad or missing id exits 1', async ({
    assert,
  }) => {
    const ok = await aceExport(['--measurement-id', 'G-AB12CD34'], {
      APP_URL: 'https://app.example.com',
      LANDING_URL: 'https://example.com',
    })
    assert.equal(ok.code, 0, ok.stderr)
    const exported = JSON.parse(ok.stdout)
    assert.deepEqual(containerProblems(exported), [])
    assert.deepInclude(googleTag(exported).parameter, {
      type: 'TEMPLATE',
      key: 'tagId',
      value: 'G-AB12CD34',
    })

    const fromEnv = await aceExport([], { GA_MEASUREMENT_ID: 'G-ENV12345' })
    assert.equal(fromEnv.code, 0, fromEnv.stderr)
    assert.include(fromEnv.stdout, '"G-ENV12345"')

    const bad = await aceExport(['--measurement-id', 'UA-1234-5'])
    assert.equal(bad.code, 1)
    assert.equal(bad.stdout, '')
    assert.include(bad.stderr + bad.stdout, 'G-XXXXXXX')
  }).timeout(60_000)
})
