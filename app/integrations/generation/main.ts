import generationConfig from '#config/generation'
import type { GenerationProvider, ProviderName } from '#integrations/generation/provider'
import { LocalFfmpegProvider } from '#integrations/generation/local_ffmpeg'
import { HttpGenerationProvider } from '#integrations/generation/http'
import { SyncProvider } from '#integrations/generation/sync'
import { ReplicateProvider } from '#integrations/generation/replicate'
import { FalProvider } from '#integrations/generation/fal'

/** A provider adapter by name, configured from config/generation.ts. */
export function makeGenerationProvider(name: string = 'local'): GenerationProvider {
  switch (name as ProviderName) {
    case 'http':
      return new HttpGenerationProvider(generationConfig.http)
    case 'sync':
      return new SyncProvider(generationConfig.sync)
    case 'replicate':
      return new ReplicateProvider(generationConfig.replicate)
    case 'fal':
      return new FalProvider(generationConfig.fal)
    default:
      return new LocalFfmpegProvider()
  }
}

/** Whether a provider has what it needs to take jobs. */
export function hasCredentials(name: string) {
  switch (name as ProviderName) {
    case 'sync':
      return !!generationConfig.sync.apiKey
    case 'replicate':
      return !!generationConfig.replicate.apiToken
    case 'fal':
      return !!generationConfig.fal.key
    case 'http':
      return !!generationConfig.http.baseUrl
    case 'local':
      return true
    default:
      return false
  }
}
