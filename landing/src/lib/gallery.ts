import { categories, categorySlug } from '../data/clips'

/**
 * CSS for the gallery's category filter: one rule per category that hides every
 * other clip while that category's radio is checked. Goes in <head> (pages pass
 * it to the layout's "head" slot) so the filter works without JavaScript.
 */
export function galleryFilterCss(names: string[] = categories): string {
  return names
    .map(categorySlug)
    .map((slug) => `.gallery:has(#cat-${slug}:checked) .clip:not([data-category="${slug}"]){display:none}`)
    .join('\n')
}
