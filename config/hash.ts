import app from '@adonisjs/core/services/app'
import { defineConfig, drivers } from '@adonisjs/core/hash'

/*
 * scrypt, N=2^14, r=8, p=1 (16 MiB per hash): the scrypt paper's setting for
 * interactive logins, measured at ~70 ms per hash on our 2-core machines.
 * N=2^15 jumps to ~600 ms there (32 MiB no longer fits the CPU cache) and
 * OWASP's 2^17 to seconds, which would make the login form a cheap way to
 * exhaust the CPU. Existing hashes carry their own parameters, so raising N
 * later only affects new and changed passwords.
 * Tests use N=2^10 so the suite does not spend minutes hashing.
 */
const hashConfig = defineConfig({
  default: 'scrypt',
  list: {
    scrypt: drivers.scrypt({
      cost: app.inTest ? 1024 : 16384,
      blockSize: 8,
      parallelization: 1,
      maxMemory: 32 * 1024 * 1024,
    }),
  },
})

export default hashConfig

declare module '@adonisjs/core/types' {
  export interface HashersList extends InferHashers<typeof hashConfig> {}
}
