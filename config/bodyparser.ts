import { defineConfig } from '@adonisjs/core/bodyparser'

const bodyParserConfig = defineConfig({
  allowedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
  form: {
    convertEmptyStringsToNull: true,
    trimWhitespaces: true,
    types: ['application/x-www-form-urlencoded'],
    limit: '64kb',
  },
  json: {
    convertEmptyStringsToNull: true,
    trimWhitespaces: true,
    types: ['application/json', 'application/vnd.api+json'],
    limit: '256kb',
  },
  raw: {
    types: ['text/plain'],
    limit: '64kb',
  },
  multipart: {
    autoProcess: true,
    convertEmptyStringsToNull: true,
    trimWhitespaces: true,
    /* Media uploads stream straight to storage (see the tasks upload controller). */
    processManually: ['/tasks/:id/inputs/:kind'],
    limit: '20mb',
    types: ['multipart/form-data'],
  },
})

export default bodyParserConfig
