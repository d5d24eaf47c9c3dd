import db from '@adonisjs/lucid/services/db'
import logger from '@adonisjs/core/services/logger'
import { DateTime } from 'luxon'
import env from '#start/env'
import { appUrl } from '#config/app'
import { currency, findPack } from '#config/prices'
import PaymentOrder, { type OrderStatus } from '#models/payment_order'
import type User from '#models/user'
import walletService from '#services/wallet_service'
import notificationMailer from '#services/notification_mailer'
import {
  GatewayUnavailableError,
  normalizePaymentId,
  type GatewayName,
  type VerifiedPayment,
} from '#integrations/payments/gateway'
import { activeGatewayName, gatewayFor, isGatewayName } from '#integrations/payments/gateways'
import { sqlTime } from '#helpers/sql_time'
import { isUniqueViolation } from '#helpers/db_errors'
import {
  CheckoutUnavailableException,
  InvalidPostbackException,
  UnknownOrderException,
  UnknownPackException,
} from '#exceptions/billing_exceptions'

/* The return page asks the gateway at most this often per order. */
const RETURN_CHECK_INTERVAL_SECONDS = 3

export type SettleResult =
  | 'credited'
  | 'failed'
  | 'pending'
  | 'already_resolved'
  /* The provider's answer does not fit this order: nothing changed. */
  | 'amount_mismatch'
  | 'payment_mismatch'

export type ReconcileSummary = {
  checked: number
  paid: number
  failed: number
  expired: number
  pending: number
  errors: number
}

/** Default age after which a pending order expires (PAYMENT_PENDING_EXPIRY_MINUTES). */
export function pendingExpiryMinutes() {
  return env.get('PAYMENT_PENDING_EXPIRY_MINUTES') ?? 1440
}

/**
 * Top-ups: orders, checkout through the configured gateway, settling a
 * payment exactly once, and reconciling what is still pending. A postback
 * or a return is only a hint: tokens are credited after the gateway's own
 * verify says paid, with the order's amount and currency.
 */
export class BillingService {
  async createOrder(user: User, packName: unknown, customer: { ip: string }) {
    const pack = findPack(packName)
    if (!pack) throw new UnknownPackException()

    const gatewayName = activeGatewayName()
    const order = await PaymentOrder.create({
      userId: user.id,
      packName: pack.name,
      priceCents: pack.price,
      currency,
      tokens: pack.tokens,
      gateway: gatewayName,
      status: 'pending',
    })

    const returnUrl = `${appUrl}/tokens/orders/${order.id}`
    try {
      const checkout = await gatewayFor(gatewayName).createCheckout({
        orderId: order.id,
        amountCents: order.priceCents,
        currency: order.currency,
        description: `vgen: "${pack.name}" pack, ${pack.tokens.toLocaleString('en-US')} tokens`,
        pack,
        customerEmail: user.email,
        customerIp: customer.ip,
        successUrl: returnUrl,
        failureUrl: `${returnUrl}?result=failed`,
        postbackUrl: `${appUrl}/webhooks/payments/${gatewayName}?order=${order.id}`,
      })
      order.gatewayPaymentId = checkout.paymentId
      order.checkoutUrl = checkout.redirectUrl
      await order.save()
      return { order, redirectUrl: checkout.redirectUrl }
    } catch (error) {
      logger.error(
        { err: error, orderId: order.id, gateway: gatewayName },
        'checkout could not be created'
      )
      await this.resolve(order, 'failed', 'checkout_unavailable')
      if (error instanceof GatewayUnavailableError) throw new CheckoutUnavailableException()
      throw error
    }
  }

  /**
   * A postback from a gateway: find the order, ask the gateway about the
   * payment, settle. Replays and postbacks for settled orders change nothing;
   * one the gateway says is not for us (apay's other environment) is only logged.
   */
  async handlePostback(gatewayName: string, orderId: unknown, body: unknown) {
    if (!isGatewayName(gatewayName)) throw new UnknownOrderException('Unknown gateway')
    const gateway = gatewayFor(gatewayName)
    const ignored = gateway.postbackIgnoredBecause?.(body)
    if (ignored) {
      logger.warn(
        {
          gateway: gatewayName,
          orderId: typeof orderId === 'string' ? orderId.slice(0, 64) : null,
          reason: ignored.reason,
          ...ignored.details,
        },
        'postback ignored: not meant for this installation; nothing verified or credited'
      )
      return { order: null, result: 'ignored' as const, reason: ignored.reason }
    }
    const paymentId = gateway.paymentIdFromPostback(body)
    if (!paymentId) throw new InvalidPostbackException()

    const order = await this.findForPostback(gatewayName, orderId, paymentId)
    if (!order) throw new UnknownOrderException()
    if (order.status === 'expired')
      await this.reportLatePayment(order, await gateway.verify(paymentId))
    if (!order.isPending) return { order, result: 'already_resolved' as SettleResult }

    const verified = await gateway.verify(paymentId)
    const result = await this.settle(order, verified)
    return { order: await order.refresh(), result }
  }

  /**
   * Money that arrives after its order expired is not credited automatically
   * (an order leaves `pending` once); an operator credits it by hand, see
   * docs/payments.md.
   */
  private async reportLatePayment(order: PaymentOrder, verified: VerifiedPayment) {
    if (verified.status !== 'paid') return
    logger.error(
      {
        orderId: order.id,
        userId: order.userId,
        paymentId: verified.paymentId,
        amountCents: verified.amountCents,
      },
      'payment confirmed for an expired order: not credited, credit it by hand (balance:adjust)'
    )
  }

  private async findForPostback(gatewayName: GatewayName, orderId: unknown, paymentId: string) {
    const query = PaymentOrder.query().where('gateway', gatewayName)
    if (orderId !== undefined && orderId !== null && orderId !== '') {
      if (typeof orderId !== 'string' || !normalizePaymentId(orderId)) return null
      return query.where('id', orderId).first()
    }
    return query.where('gateway_payment_id', paymentId).first()
  }

  /**
   * Asks the order's gateway about its payment and settles it (the return
   * page's check and the reconciler). `paymentIdHint` is the `paymentId`
   * the customer came back with, used when the provider did not give one
   * at checkout. Returns the fresh order.
   */
  async checkOrder(order: PaymentOrder, paymentIdHint?: unknown) {
    if (!order.isPending) return order
    const paymentId = order.gatewayPaymentId ?? normalizePaymentId(paymentIdHint)
    if (!paymentId || !isGatewayName(order.gateway)) return order

    await PaymentOrder.query()
      .where('id', order.id)
      .update({ last_checked_at: sqlTime(DateTime.now()) })
    const verified = await gatewayFor(order.gateway).verify(paymentId)
    await this.settle(order, verified)
    return order.refresh()
  }

  /**
   * The return page's "check now" (faster than waiting for the postback or
   * the reconciler), at most every few seconds per order. A gateway that
   * cannot be reached decides nothing: the order stays as it is.
   */
  async checkFromReturnPage(order: PaymentOrder, paymentIdHint?: unknown) {
    const recently =
      order.lastCheckedAt &&
      order.lastCheckedAt > DateTime.now().minus({ seconds: RETURN_CHECK_INTERVAL_SECONDS })
    if (!order.isPending || recently) return order
    const fresh = await this.checkIfReachable(order, paymentIdHint)
    return fresh ?? order
  }

  /** checkOrder, or null (logged) when the gateway cannot be reached: nothing was decided. */
  private async checkIfReachable(order: PaymentOrder, paymentIdHint?: unknown) {
    try {
      return await this.checkOrder(order, paymentIdHint)
    } catch (error) {
      if (!(error instanceof GatewayUnavailableError)) throw error
      logger.warn({ err: error, orderId: order.id }, 'gateway unavailable, order left pending')
      return null
    }
  }

  /**
   * The one place an order leaves `pending`. Paid → a conditional update
   * and the credit (reference `topup:order:<id>`) in one transaction, so a
   * concurrent postback, return check or reconcile applies it once.
   */
  async settle(order: PaymentOrder, verified: VerifiedPayment): Promise<SettleResult> {
    const log = { orderId: order.id, paymentId: verified.paymentId, status: verified.rawStatus }
    if (order.gatewayPaymentId && order.gatewayPaymentId !== verified.paymentId) {
      logger.warn(log, 'payment does not belong to this order; ignored')
      return 'payment_mismatch'
    }
    if (verified.status === 'pending') return 'pending'

    if (verified.status === 'paid') {
      if (verified.amountCents !== order.priceCents || verified.currency !== order.currency) {
        logger.warn(
          { ...log, amountCents: verified.amountCents, currency: verified.currency },
          'paid amount or currency differs from the order; not credited'
        )
        /* A payment already tied to this order is definitely wrong; an untied one may belong elsewhere. */
        if (order.gatewayPaymentId) await this.resolve(order, 'failed', 'amount_mismatch')
        return 'amount_mismatch'
      }
      try {
        const credited = await db.transaction(async (trx) => {
          const moved = await trx
            .from('payment_orders')
            .where('id', order.id)
            .where('status', 'pending')
            .update({
              status: 'paid',
              gateway_payment_id: verified.paymentId,
              resolved_at: sqlTime(DateTime.now()),
              updated_at: sqlTime(DateTime.now()),
            })
          if (Number(moved) !== 1) return false
          const credit = await walletService.change(
            {
              userId: order.userId,
              action: 'topup',
              diff: order.tokens,
              reference: order.creditReference,
              description: `Bought "${order.packName}" pack`,
            },
            trx
          )
          /* The receipt exists exactly when the credit does (dedupe key: the order). */
          await notificationMailer.queueReceipt(trx, order, credit.newBalance)
          return true
        })
        if (credited) logger.info(log, 'order paid and credited')
        return credited ? 'credited' : 'already_resolved'
      } catch (error) {
        if (!isUniqueViolation(error)) throw error
        logger.warn(log, 'payment already settled another order; ignored')
        return 'payment_mismatch'
      }
    }

    try {
      const moved = await this.resolve(
        order,
        'failed',
        `declined:${verified.rawStatus}`.slice(0, 64),
        verified.paymentId
      )
      return moved ? 'failed' : 'already_resolved'
    } catch (error) {
      if (!isUniqueViolation(error)) throw error
      return 'payment_mismatch'
    }
  }

  /** pending → failed | expired, once. */
  private async resolve(
    order: PaymentOrder,
    status: Exclude<OrderStatus, 'pending' | 'paid'>,
    reason: string,
    paymentId?: string
  ) {
    const moved = await db
      .from('payment_orders')
      .where('id', order.id)
      .where('status', 'pending')
      .update({
        status,
        failure_reason: reason,
        ...(paymentId ? { gateway_payment_id: paymentId } : {}),
        resolved_at: sqlTime(DateTime.now()),
        updated_at: sqlTime(DateTime.now()),
      })
    return Number(moved) === 1
  }

  /**
   * Resolves pending orders by asking their gateway; orders still pending
   * after `expireAfterMinutes` expire. A gateway that cannot be reached
   * decides nothing: the order is retried on the next pass.
   */
  async reconcile(
    options: { expireAfterMinutes?: number; limit?: number; recheckAfterSeconds?: number } = {}
  ): Promise<ReconcileSummary> {
    const now = DateTime.now()
    const expiryCutoff = now.minus({
      minutes: options.expireAfterMinutes ?? pendingExpiryMinutes(),
    })
    const recheckCutoff = now.minus({ seconds: options.recheckAfterSeconds ?? 0 })
    const orders = await PaymentOrder.query()
      .where('status', 'pending')
      .where((query) =>
        query
          .whereNull('last_checked_at')
          .orWhere('last_checked_at', '<=', sqlTime(recheckCutoff))
          .orWhere('created_at', '<', sqlTime(expiryCutoff))
      )
      .orderBy('created_at', 'asc')
      .limit(options.limit ?? 200)

    const summary: ReconcileSummary = {
      checked: 0,
      paid: 0,
      failed: 0,
      expired: 0,
      pending: 0,
      errors: 0,
    }
    for (const order of orders) {
      summary.checked += 1
      const fresh = await this.checkIfReachable(order)
      if (!fresh) {
        summary.errors += 1
        continue
      }
      if (fresh.isPending && fresh.createdAt < expiryCutoff) {
        if (await this.resolve(fresh, 'expired', 'no_confirmed_payment')) fresh.status = 'expired'
      }
      if (fresh.status === 'paid') summary.paid += 1
      else if (fresh.status === 'failed') summary.failed += 1
      else if (fresh.status === 'expired') summary.expired += 1
      else summary.pending += 1
    }
    return summary
  }
}

const billingServiceInstance = new BillingService()
export default billingServiceInstance
