import { test } from '@japa/runner'
import walletService from '#services/wallet_service'
import { freshState } from '#tests/helpers/db'
import { createUser } from '#tests/helpers/users'
import { signedIn } from '#tests/helpers/auth'

function rowsOf(html: string) {
  const body = html.match(/<tbody>([\s\S]*?)<\/tbody>/)?.[1] ?? ''
  return [...body.matchAll(/<tr[\s\S]*?<\/tr>/g)].map((match) =>
    match[0]
      .replace(/<[^>]+>/g, ' ')
      .replace(/&quot;/g, '"')
      .replace(/\s+/g, ' ')
      .trim()
  )
}

test.group('Usage page', (group) => {
  freshState(group)

  test('a new user sees the empty state', async ({ client }) => {
    const user = await createUser()
    const page = await signedIn(client.get('/usage'), user)
    page.assertStatus(200)
    page.assertTextIncludes('No token activity yet')
    page.assertTextIncludes('Buy tokens')
  })

  test('rows in words, newest first, with change and balance after; refused attempts not listed', async ({
    client,
    assert,
  }) => {
    const user = await createUser()
    const change = (diff: number, action: any, reference: string, description: string) =>
      walletService.change({ userId: user.id, diff, action, reference, description })
    await change(10_000, 'topup', 'topup:order:a', 'Bought "small" pack')
    await change(-1_500, 'used', 'used:run:1', 'Task "Cat video" run #2')
    await change(1_500, 'refund', 'refund:run:1', 'Refund for task "Cat video"')
    await change(-20_000, 'used', 'used:run:2', 'Task "Too big" run #1')
    await change(-100, 'manual', 'manual:key:x', 'Manual adjustment')

    const page = await signedIn(client.get('/usage'), user)
    assert.deepEqual(
      rowsOf(page.text()).map((row) => row.replace(/^\S+ \S+ UTC /, '')),
      [
        'Manual adjustment −100 9,900',
        'Refund for task "Cat video" +1,500 10,000',
        'Task "Cat video" run #2 −1,500 8,500',
        'Bought "small" pack +10,000 10,000',
      ]
    )
  })

  test('25 rows per page with working pagination', async ({ client, assert }) => {
    const user = await createUser()
    for (let index = 1; index <= 30; index++) {
      await walletService.change({
        userId: user.id,
        action: 'manual',
        diff: index,
        reference: `manual:key:p${index}`,
        description: `Adjustment ${index}`,
      })
    }
    const first = await signedIn(client.get('/usage'), user)
    const firstRows = rowsOf(first.text())
    assert.lengthOf(firstRows, 25)
    assert.include(firstRows[0], 'Adjustment 30')
    first.assertTextIncludes('Page 1 of 2')

    const second = await signedIn(client.get('/usage?page=2'), user)
    const secondRows = rowsOf(second.text())
    assert.lengthOf(secondRows, 5)
    assert.include(secondRows[4], 'Adjustment 1 ')

    for (const odd of ['0', '-1', 'abc', '99999999999', '2.5']) {
      const response = await signedIn(client.get(`/usage?page=${odd}`), user)
      response.assertStatus(200)
    }
  })

  test("one user never sees another user's rows", async ({ client, assert }) => {
    const alice = await createUser()
    const bob = await createUser()
    await walletService.change({
      userId: bob.id,
      action: 'topup',
      diff: 70_000,
      reference: 'topup:order:bob',
      description: 'Bought "large" pack',
    })
    const page = await signedIn(client.get('/usage'), alice)
    assert.notInclude(page.text(), 'large')
    page.assertTextIncludes('No token activity yet')
  })
})
