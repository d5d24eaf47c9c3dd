/*
| Token packs: the one place to change pricing (SPEC §2). An order keeps a
| snapshot of its pack, so tokens already bought are never re-priced.
*/
export type Pack = {
  name: string
  /** Price in cents of `currency`. */
  price: number
  tokens: number
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
