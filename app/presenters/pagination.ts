/** A `?page=` value as a page number: anything odd is page 1, huge values are capped. */
export function pageNumber(value: unknown) {
  const page = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : 1
  return Math.max(1, page)
}
