import { test } from '@japa/runner'
import { limits } from '#start/limiter'
import { accountKey } from '#services/login_throttle'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { screenshot, watchConsole } from '#tests/browser/helpers'

test.group('Login throttle page', (group) => {
  freshState(group)

  test('a paused account shows why, what still works and the reset link', async ({
    visit,
    assert,
  }) => {
    const user = await createUser({ email: 'paused@example.com' })
    await limits.loginFailuresPerAccount().block(accountKey(user.email), '1 hour')

    const page = await visit('/login')
    const problems = watchConsole(page as any)
    await page.getByLabel('Email').fill(user.email)
    await page.getByLabel('Password').fill('correct horse battery')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByText('Too many failed logins for this account').waitFor()
    assert.equal(await page.getByLabel('Email').inputValue(), user.email)
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: 800 })
      await screenshot(page as any, `login-throttled-${width}`)
    }
    await page.getByRole('link', { name: 'Reset it' }).click()
    await page.waitForURL('**/forgot-password')
    /* The 429 answer itself is reported by the browser; nothing else may be. */
    assert.deepEqual(
      problems.filter((problem) => !problem.includes('status of 429')),
      []
    )
  })
})
