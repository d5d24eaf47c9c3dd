import app from '@adonisjs/core/services/app'
import env from '#start/env'
import { ApayGateway, type ApayEnvironment } from '#integrations/payments/apay'
import { DevGateway } from '#integrations/payments/dev'
import {
  GATEWAY_NAMES,
  GatewayUnavailableError,
  type GatewayName,
  type PaymentGateway,
} from '#integrations/payments/gateway'

/** A gateway this environment cannot use (missing settings, dev in production): unavailable too. */
export class GatewayNotConfiguredError extends GatewayUnavailableError {}

/** The gateway new orders go through: PAYMENT_GATEWAY, else dev (apay in production). */
export function activeGatewayName(): GatewayName {
  return env.get('PAYMENT_GATEWAY') ?? (app.inProduction ? 'apay' : 'dev')
}

export function isGatewayName(name: unknown): name is GatewayName {
  return typeof name === 'string' && (GATEWAY_NAMES as readonly string[]).includes(name)
}

/**
 * Builds a gateway by name. Read from env on every call, so existing orders
 * are settled by the gateway they were created with.
 */
export function gatewayFor(name: GatewayName): PaymentGateway {
  if (name === 'dev') {
    if (app.inProduction)
      throw new GatewayNotConfiguredError('The dev gateway does not exist in production')
    return new DevGateway()
  }
  return apayFromEnv()
}

/** The apay environment APAY_TOKEN belongs to: APAY_ENVIRONMENT, else prod in production, test elsewhere. */
export function apayEnvironment(): ApayEnvironment {
  /* `||`: an empty value (as set by tests) means unset, as at boot. */
  return env.get('APAY_ENVIRONMENT') || (app.inProduction ? 'prod' : 'test')
}

/** apay as configured by APAY_API_URL, APAY_TOKEN, APAY_ENVIRONMENT and APAY_TIMEOUT_MS. */
export function apayFromEnv(): ApayGateway {
  const apiUrl = env.get('APAY_API_URL')
  const token = env.get('APAY_TOKEN')
  if (!apiUrl || !token)
    throw new GatewayNotConfiguredError('apay needs APAY_API_URL and APAY_TOKEN')
  const timeoutMs = Number(env.get('APAY_TIMEOUT_MS') ?? 10_000)
  return new ApayGateway({
    apiUrl,
    token,
    environment: apayEnvironment(),
    timeoutMs: timeoutMs > 0 ? timeoutMs : 10_000,
  })
}
