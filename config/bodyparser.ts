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
    /*
     * No route takes multipart fields: the only multipart form is the media
     * upload, which streams its file part itself (#services/tasks/multipart_file).
     * Not parsing multipart anywhere else also keeps every other route away
     * from the parser's failure modes on cut bodies.
     */
    autoProcess: false,
    convertEmptyStringsToNull: true,
    trimWhitespaces: true,
    processManually: [],
    limit: '20mb',
    types: ['multipart/form-data'],
  },
})

export default bodyParserConfig
