// @ts-check
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'astro/config'

// Fully static output for Netlify. Build-time settings (APP_URL, GTM_ID,
// TELEGRAM_SUPPORT_URL) are read in src/lib/config.ts.
export default defineConfig({
  output: 'static',
  trailingSlash: 'ignore',
  build: {
    format: 'directory',
    // One small stylesheet per page: inline it to save a render-blocking request.
    inlineStylesheets: 'always',
  },
  // Keep every script an external file under /_astro/ (never inlined), so the
  // only inline script is the fixed GTM bootstrap whose hash netlify.toml allows.
  vite: {
    build: { assetsInlineLimit: 0 },
    // Use this folder's tsconfig. Without it Vite may pick up the app's tsconfig at the
    // repository root, which extends a package that is not installed here.
    tsconfig: fileURLToPath(new URL('./tsconfig.json', import.meta.url)),
  },
  devToolbar: { enabled: false },
  server: { port: 4321, host: '127.0.0.1' },
})
