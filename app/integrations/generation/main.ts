import generationConfig from '#config/generation'
import type { GenerationProvider } from '#integrations/generation/provider'
import { LocalFfmpegProvider } from '#integrations/generation/local_ffmpeg'
import { HttpGenerationProvider } from '#integrations/generation/http'

/** The provider picked by GENERATION_PROVIDER. */
export function makeGenerationProvider(name = generationConfig.provider): GenerationProvider {
  if (name === 'http') return new HttpGenerationProvider(generationConfig.http)
  return new LocalFfmpegProvider()
}
