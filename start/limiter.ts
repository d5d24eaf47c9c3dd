/*
| Rate limits for the account flows. A limit that is reached throws
| ThrottleException: a 429 page with a clear message and Retry-After.
*/
import limiter from '@adonisjs/limiter/services/main'

export const limits = {
  loginPerIp: () => limiter.use({ requests: 30, duration: '15 mins', blockDuration: '15 mins' }),
  loginPerEmailAndIp: () =>
    limiter.use({ requests: 10, duration: '15 mins', blockDuration: '15 mins' }),
  /* Wrong passwords per account from devices not used with it before, across all IPs. */
  loginFailuresPerAccount: () =>
    limiter.use({ requests: 20, duration: '1 hour', blockDuration: '1 hour' }),
  /* Wrong passwords per account on one known device (see LoginThrottle). */
  loginFailuresPerDevice: () =>
    limiter.use({ requests: 10, duration: '15 mins', blockDuration: '15 mins' }),
  signupPerIp: () => limiter.use({ requests: 10, duration: '1 hour' }),
  resetRequestPerIp: () => limiter.use({ requests: 10, duration: '1 hour' }),
}
