import { defineConfig } from 'vite'
import adonisjs from '@adonisjs/vite/client'

export default defineConfig({
  plugins: [
    adonisjs({
      entryPoints: ['resources/css/app.css', 'resources/js/app.js'],
      reload: ['resources/views/**/*.edge'],
    }),
  ],
  /* Bundled when the dev server starts, not on the first page that imports it (which reloads that page). */
  optimizeDeps: { include: ['tus-js-client'] },
  /* Tests need no live reload, and parallel test runs would fight over its fixed port. */
  server: { hmr: process.env.NODE_ENV === 'test' ? false : undefined },
})
