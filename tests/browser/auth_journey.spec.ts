import { test } from '@japa/runner'
import { freshState } from '#tests/helpers/db'
import { linkFromLatestMail } from '#tests/helpers/mailbox'
import { screenshot, watchConsole } from '#tests/browser/helpers'

const EMAIL = 'journey@example.com'
const FIRST = 'first password 1'
const SECOND = 'second password 2'

test.group('Account journey in a browser', (group) => {
  freshState(group)

  test('sign up, activate, log in, log out, reset the password, log in again', async ({
    visit,
    assert,
  }) => {
    const page = await visit('/signup')
    const problems = watchConsole(page as any)
    await screenshot(page as any, 'auth-signup')
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByLabel('Password', { exact: true }).fill(FIRST)
    await page.getByLabel('Confirm password').fill(FIRST)
    await page.getByRole('button', { name: 'Sign up' }).click()
    await page.waitForURL('**/signup/check-email')
    await page.getByRole('heading', { name: 'Check your email' }).waitFor()
    await screenshot(page as any, 'auth-check-email')

    // Log in before activating: refused, and a fresh activation link is mailed.
    await page.goto('/login')
    await screenshot(page as any, 'auth-login')
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByLabel('Password').fill(FIRST)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByText('Please verify your email first').waitFor()
    await screenshot(page as any, 'auth-login-unverified')

    const activation = await linkFromLatestMail(EMAIL, '/activate/')
    await page.goto(new URL(activation).pathname)
    await page.getByText('Your account is activated').waitFor()
    assert.equal(await page.getByLabel('Email').inputValue(), EMAIL)
    await page.getByLabel('Password').fill(FIRST)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForURL('**/tasks')
    await page.getByText(EMAIL).first().waitFor()
    await page.getByText('tokens', { exact: false }).first().waitFor()
    await screenshot(page as any, 'dashboard')

    await page.getByRole('button', { name: 'Log out' }).click()
    await page.waitForURL('**/login')

    await page.getByRole('link', { name: 'Forgot your password?' }).click()
    await screenshot(page as any, 'auth-forgot')
    await page.getByLabel('Email').fill(EMAIL)
    await page.getByRole('button', { name: 'Send reset link' }).click()
    await page.waitForURL('**/forgot-password/sent')

    const reset = await linkFromLatestMail(EMAIL, '/reset-password/')
    await page.goto(new URL(reset).pathname)
    await screenshot(page as any, 'auth-reset')
    await page.getByLabel('New password', { exact: true }).fill(SECOND)
    await page.getByLabel('Confirm new password').fill(SECOND)
    await page.getByRole('button', { name: 'Save new password' }).click()
    await page.getByText('Your password was changed').waitFor()

    await page.getByLabel('Password').fill(FIRST)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByText('Invalid email or password.').waitFor()

    await page.getByLabel('Email').fill(EMAIL)
    await page.getByLabel('Password').fill(SECOND)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForURL('**/tasks')

    assert.deepEqual(problems, [], 'no console errors or CSP violations')

    await page.goto('/no-such-page')
    await page.getByRole('heading', { name: 'Page not found' }).waitFor()
    await screenshot(page as any, 'error-404')
  })
})
