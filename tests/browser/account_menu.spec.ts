import { test } from '@japa/runner'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { logIn, screenshot, watchConsole } from '#tests/browser/helpers'

test.group('Account menu in the header', (group) => {
  freshState(group)

  test('"Log out other devices" is one click away from every page, at phone and desktop width', async ({
    visit,
    assert,
  }) => {
    const user = await createUser({ email: 'menu@example.com' })
    const page = await visit('/login')
    const problems = watchConsole(page as any)
    await logIn(page as any, user.email)

    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: 800 })
      await page.goto('/tasks')
      await page.locator('.account-menu summary').click()
      const button = page.getByRole('button', { name: 'Log out other devices' })
      await button.waitFor()
      await screenshot(page as any, `account-menu-${width}`)
      await button.click()
      await page.getByText('Your other devices have been logged out.').waitFor()
      assert.isTrue(page.url().endsWith('/tasks'))
    }
    await screenshot(page as any, 'account-menu-done-1280')
    await user.refresh()
    assert.equal(user.sessionVersion, 3)
    assert.deepEqual(problems, [])
  })
})
