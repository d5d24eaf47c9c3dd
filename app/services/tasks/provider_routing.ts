import db from '@adonisjs/lucid/services/db'
import logger from '@adonisjs/core/services/logger'
import { DateTime } from 'luxon'
import generationConfig from '#config/generation'
import { findModel, models, type ModelType } from '#config/models'
import { hasCredentials, makeGenerationProvider } from '#integrations/generation/main'
import type {
  GenerationProvider,
  ProviderName,
  ProviderRoute,
} from '#integrations/generation/provider'
import { sqlTime } from '#helpers/sql_time'

/*
 * Which provider runs which model. Each model lists the hosted providers
 * that can run it (config/models.ts); a new run goes to the first one with
 * credentials whose submits are not failing for longer than
 * GENERATION_FAILOVER_MINUTES. GENERATION_PROVIDER forces one provider for
 * everything. Without any hosted credentials, `local` runs every model.
 * A run keeps the provider it was launched with.
 */

const HOSTED = ['sync', 'replicate', 'fal'] as const

export type RunRoute = { provider: ProviderName; route?: ProviderRoute }

/** The providers that could run `model` now, in order of preference. */
export function candidatesFor(model: ModelType): RunRoute[] {
  const forced = generationConfig.provider as ProviderName | undefined
  if (forced === 'local' || forced === 'http') return [{ provider: forced }]
  if (forced) {
    const route = model.providers.find((entry) => entry.provider === forced)
    return route ? [{ provider: forced, route }] : []
  }
  if (!HOSTED.some((name) => hasCredentials(name))) return [{ provider: 'local' }]
  return model.providers
    .filter((entry) => hasCredentials(entry.provider))
    .map((route) => ({ provider: route.provider, route }))
}

/** Models a customer can pick on /tasks/new (some configured provider can run them). */
export function offeredModels() {
  return models.filter((model) => candidatesFor(model).length > 0)
}

export function isOffered(modelKey: string) {
  const model = findModel(modelKey)
  return !!model && candidatesFor(model).length > 0
}

/** The model route a run submits with (by the provider it was launched on). */
export function routeOf(provider: string, modelKey: string): ProviderRoute | undefined {
  return findModel(modelKey)?.providers.find((entry) => entry.provider === provider)
}

/* The switch is logged once per outage (per process). */
const loggedSwitches = new Set<string>()

/** The provider for a new run of `model`, or null when none can run it. */
export async function chooseProvider(model: ModelType): Promise<RunRoute | null> {
  const candidates = candidatesFor(model)
  if (candidates.length <= 1) return candidates[0] ?? null
  const outages = await currentOutages()
  const now = Date.now()
  const down = (name: string) => {
    const since = outages.get(name)
    return since !== undefined && now - since.getTime() >= generationConfig.failoverAfterMs
  }
  const chosen = candidates.find((candidate) => !down(candidate.provider))
  if (!chosen) return candidates[0]
  if (chosen !== candidates[0]) {
    const skipped = candidates.slice(0, candidates.indexOf(chosen)).map((c) => c.provider)
    const key = `${model.key}:${skipped.map((name) => `${name}@${outages.get(name)?.getTime()}`)}`
    if (!loggedSwitches.has(key)) {
      loggedSwitches.add(key)
      logger.warn(
        { model: model.key, skipped, to: chosen.provider },
        'generation failover: new runs go to the next provider'
      )
    }
  }
  return chosen
}

async function currentOutages() {
  const rows = await db.from('provider_outages').select('provider', 'failing_since')
  return new Map<string, Date>(
    rows.map((row) => [row.provider, new Date(`${String(row.failing_since).replace(' ', 'T')}Z`)])
  )
}

/** A submit to `provider` failed transiently (5xx, 429, network): start (or keep) its outage clock. */
export async function recordSubmitFailure(provider: string, error: string) {
  const now = sqlTime(DateTime.now())
  await db.rawQuery(
    `INSERT INTO provider_outages (provider, failing_since, last_error, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (provider) DO UPDATE SET last_error = excluded.last_error, updated_at = excluded.updated_at`,
    [provider, now, error.slice(0, 255), now]
  )
}

/** A submit went through: the provider is healthy again. */
export async function recordSubmitSuccess(provider: string) {
  await db.from('provider_outages').where('provider', provider).delete()
}

/* One adapter instance per provider and configuration (fal caches its webhook keys in it). */
const instances = new Map<string, GenerationProvider>()

export function providerNamed(name: string): GenerationProvider {
  const section = (generationConfig as Record<string, unknown>)[name]
  const key = `${name}:${JSON.stringify(section ?? null)}`
  let provider = instances.get(key)
  if (!provider) {
    provider = makeGenerationProvider(name)
    instances.set(key, provider)
  }
  return provider
}
