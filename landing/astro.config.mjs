// @ts-check
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
  vite: { build: { assetsInlineLimit: 0 } },
  devToolbar: { enabled: false },
  server: { port: 4321, host: '127.0.0.1' },
})
