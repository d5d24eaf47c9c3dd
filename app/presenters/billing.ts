import { prices, currency, type Pack } from '#config/prices'
import type PaymentOrder from '#models/payment_order'
import type LedgerEntry from '#models/ledger_entry'
import { formatTokens } from '#helpers/formatting'

/* Building an Intl formatter costs far more than using one: one per currency. */
const priceFormats = new Map<string, Intl.NumberFormat>()

export function formatPrice(cents: number, code = currency) {
  let format = priceFormats.get(code)
  if (!format) {
    format = new Intl.NumberFormat('en-US', { style: 'currency', currency: code })
    priceFormats.set(code, format)
  }
  return format.format(cents / 100)
}

/** The packs as cards on /tokens, cheapest per token last so the saving is visible. */
export function packCards(packs: Pack[] = prices) {
  return packs.map((pack) => ({
    name: pack.name,
    tokens: pack.tokens,
    priceText: formatPrice(pack.price),
    perThousandText: formatPrice(Math.round((pack.price * 1000) / pack.tokens)),
  }))
}

export const ORDER_STATUS_TEXT: Record<PaymentOrder['status'], string> = {
  pending: 'Processing',
  paid: 'Paid',
  failed: 'Failed',
  expired: 'Expired',
}

/** What the customer sees about one order; the same shape feeds the status JSON. */
export function orderView(order: PaymentOrder) {
  return {
    id: order.id,
    pack: order.packName,
    tokens: order.tokens,
    priceText: formatPrice(order.priceCents, order.currency),
    status: order.status,
    statusText: ORDER_STATUS_TEXT[order.status],
    failureText: order.status === 'failed' ? failureText(order.failureReason) : null,
    createdAt: order.createdAt,
  }
}

function failureText(reason: string | null) {
  if (reason === 'checkout_unavailable')
    return 'The payment provider could not be reached. You were not charged.'
  if (reason === 'amount_mismatch')
    return 'The amount paid does not match this order. Please contact support.'
  return 'The payment was declined or cancelled. You were not charged.'
}

const ACTION_FALLBACK: Record<LedgerEntry['action'], string> = {
  topup: 'Tokens bought',
  used: 'Task run',
  refund: 'Refund',
  manual: 'Manual adjustment',
}

/* A ledger row as /usage reads it: plain columns (no model instance per row). */
export type LedgerListRow = Pick<LedgerEntry, 'id' | 'action' | 'diff' | 'description'> & {
  new_balance: number
  created_at: string
}
export const LEDGER_LIST_COLUMNS = [
  'id',
  'action',
  'diff',
  'description',
  'new_balance',
  'created_at',
]

/** A ledger row in words for /usage. */
export function ledgerRow(entry: LedgerListRow) {
  return {
    id: entry.id,
    createdAt: entry.created_at,
    what: entry.description || ACTION_FALLBACK[entry.action],
    action: entry.action,
    diff: entry.diff,
    diffText: `${entry.diff > 0 ? '+' : '−'}${formatTokens(Math.abs(entry.diff))}`,
    balanceAfter: entry.new_balance,
  }
}

/** What a receipt says, the same in the mail and on the printable page. */
export function receiptLines(order: PaymentOrder, balanceAfter: number | null) {
  const paidAt = order.resolvedAt ?? order.createdAt
  return {
    orderId: order.id,
    paidAt,
    rows: [
      { label: 'Pack', value: `“${order.packName}”` },
      { label: 'Tokens', value: formatTokens(order.tokens) },
      {
        label: 'Amount paid',
        value: `${formatPrice(order.priceCents, order.currency)} (${order.currency})`,
      },
      { label: 'Order id', value: order.id },
      { label: 'Date', value: `${paidAt.toUTC().toFormat('d LLL yyyy, HH:mm')} UTC` },
      ...(balanceAfter === null
        ? []
        : [{ label: 'Balance after', value: `${formatTokens(balanceAfter)} tokens` }]),
    ],
  }
}

export const RECEIPT_NOTE = 'This receipt confirms your payment. It is not a tax invoice.'
