import type { Edge } from 'edge.js'

/**
 * Completes Edge's template cache for production (edge.js 6.5.1), where
 * two things are redone on every render although `cache: true` is set:
 *
 * - `@include` compiles its partial at render time through
 *   `compilePartial(path, ...locals)`, and the compiler caches only calls
 *   without a locals list; the rest parameter is always an array, so
 *   partials (head, flash, pager…) were read, parsed and compiled again on
 *   every page.
 * - The components plugin is registered as recurring when the Edge instance
 *   is created (before the provider turns the cache on), so each renderer
 *   re-lists the components folders (a recursive readdir per request).
 *
 * Templates never change in a production process, so both results are kept:
 * a compiled partial per (path, local variable names), and the components list.
 */
export function completeEdgeCache(edge: Edge) {
  for (const compiler of [edge.compiler, edge.asyncCompiler]) {
    const compile = compiler.compile.bind(compiler)
    const compiled = new Map<string, ReturnType<typeof compile>>()
    compiler.compile = (templatePath: string, localVariables?: string[]) => {
      const key = `${templatePath}\0${localVariables?.join(',') ?? ''}`
      let template = compiled.get(key)
      if (!template) {
        template = compile(templatePath, localVariables)
        compiled.set(key, template)
      }
      return template
    }
  }

  const listComponents = edge.loader.listComponents.bind(edge.loader)
  let components: ReturnType<typeof listComponents> | undefined
  edge.loader.listComponents = () => (components ??= listComponents())
}
