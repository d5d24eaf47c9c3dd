/*
| Token packs: the one place to change pricing (SPEC §2). An order keeps a
| snapshot of its pack, so tokens already bought are never re-priced.
*/
export type Pack = {
  name: string
  /** Price in cents of `currency`. */
  price: number
  tokens: number
  /**
   * The pack's product id in apay's own catalogue, sent as the order's one
   * `products` entry (docs/payments.md). Defaults to `name`.
   */
  apayProductId?: string
}

export const currency = 'USD'

export const prices: Pack[] = [
  { name: 'small', price: 1000, tokens: 10_000 }, // price in cents: 10 USD
  { name: 'medium', price: 2500, tokens: 30_000 }, // 25 USD
  { name: 'large', price: 5000, tokens: 70_000 }, // 50 USD
]

export function findPack(name: unknown): Pack | undefined {
  return typeof name === 'string' ? prices.find((pack) => pack.name === name) : undefined
}

/** The id apay knows this pack by. */
export function apayProductIdOf(pack: Pack) {
  return pack.apayProductId ?? pack.name
}

/**
 * A pack list that cannot be sold is refused when the app boots, not at a
 * customer's checkout: names and apay product ids must be unique, short,
 * printable strings; prices and tokens positive integers.
 */
export function assertValidPacks(packs: Pack[]) {
  const ID = /^[\w.:-]{1,64}$/
  const names = new Set<string>()
  const productIds = new Set<string>()
  for (const pack of packs) {
    const label = `pack ${JSON.stringify(pack.name)}`
    if (typeof pack.name !== 'string' || !ID.test(pack.name))
      throw new Error(`config/prices.ts: ${label}: the name must match ${ID}`)
    if (!Number.isSafeInteger(pack.price) || pack.price <= 0)
      throw new Error(`config/prices.ts: ${label}: price must be a positive number of cents`)
    if (!Number.isSafeInteger(pack.tokens) || pack.tokens <= 0)
      throw new Error(`config/prices.ts: ${label}: tokens must be a positive integer`)
    const productId = apayProductIdOf(pack)
    if (typeof productId !== 'string' || !ID.test(productId))
      throw new Error(`config/prices.ts: ${label}: apayProductId must match ${ID}`)
    if (names.has(pack.name)) throw new Error(`config/prices.ts: ${label} is listed twice`)
    if (productIds.has(productId))
      throw new Error(`config/prices.ts: ${label}: apay product id "${productId}" is used twice`)
    names.add(pack.name)
    productIds.add(productId)
  }
}

assertValidPacks(prices)
