/*
| Rate limits for the account flows. A limit that is reached throws
| ThrottleException: a 429 page with a clear message and Retry-After.
*/
import limiter from '@adonisjs/limiter/services/main'

export const limits = {
  loginPerIp: () => limiter.use({ requests: 30, duration: '15 mins', blockDuration: '15 mins' }),
  loginPerEmailAndIp: () =>
    limiter.use({ requests: 10, duration: '15 mins', blockDuration: '15 mins' }),
  signupPerIp: () => limiter.use({ requests: 10, duration: '1 hour' }),
  resetRequestPerIp: () => limiter.use({ requests: 10, duration: '1 hour' }),
}
