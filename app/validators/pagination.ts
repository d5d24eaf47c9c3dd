import vine from '@vinejs/vine'

/** `?page=`: 1 to 999 999, digits only. */
export const pageValidator = vine.create({
  page: vine
    .string()
    .regex(/^\d{1,6}$/)
    .transform(Number)
    .optional(),
})

/**
 * The page a list shows. An odd `?page=` (abc, -1, 1e3, 10000000, repeated)
 * shows page 1 rather than an error: it usually comes from an old or
 * hand-edited link, and page 1 is the useful answer.
 */
export async function pageNumber(qs: Record<string, unknown>) {
  const [error, data] = await pageValidator.tryValidate({ page: qs.page })
  return error ? 1 : Math.max(1, data.page ?? 1)
}
