/*
| JavaScript entrypoint for Ace: registers the TypeScript loader, then boots
| bin/console.ts. Replaced by a plain JS file in production builds.
*/
import '@poppinss/ts-exec'

await import('./bin/console.js')
