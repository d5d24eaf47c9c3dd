import { test } from '@japa/runner'
import { GeoLocator, SHIPPED_GEOIP_DATABASE } from '#services/dwh/geo'

const offline = new GeoLocator({ trustCdnHeaders: false, databases: [] })
const behindCdn = new GeoLocator({ trustCdnHeaders: true, databases: [] })

test.group('Geo from the shipped offline database', () => {
  test('a public IP in the database resolves to its country', async ({ assert }) => {
    assert.deepEqual(await offline.locate('8.8.8.8'), { country: 'US' })
    assert.deepEqual(await offline.locate('193.0.6.139'), { country: 'NL' })
    // IPv4 seen through an IPv6 socket, and a plain IPv6 address (DFN, Germany's research network).
    assert.deepEqual(await offline.locate('::ffff:8.8.8.8'), { country: 'US' })
    assert.deepEqual(await offline.locate('2001:638::1'), { country: 'DE' })
  })

  test('private, loopback, reserved and malformed addresses give empty geo, never an error', async ({
    assert,
  }) => {
    for (const ip of [
      '10.1.2.3',
      '172.20.0.5',
      '192.168.1.10',
      '127.0.0.1',
      '169.254.1.1',
      '100.64.0.1',
      '::1',
      'fd12:3456::1',
      'fe80::1',
      '::ffff:192.168.0.1',
      'not an ip',
      '999.1.1.1',
      '',
      null,
      undefined,
    ]) {
      assert.deepEqual(await offline.locate(ip as any), {}, `geo of ${ip}`)
    }
  })

  test('a missing database file gives empty geo instead of failing', async ({ assert }) => {
    const broken = new GeoLocator({ trustCdnHeaders: false, databases: ['/nonexistent/geo.mmdb'] })
    assert.deepEqual(await broken.locate('8.8.8.8'), {})
  })

  test('several databases are tried in order', async ({ assert }) => {
    const chain = new GeoLocator({
      trustCdnHeaders: false,
      databases: ['/nonexistent/city.mmdb', SHIPPED_GEOIP_DATABASE],
    })
    assert.deepEqual(await chain.locate('8.8.8.8'), { country: 'US' })
  })
})

test.group('Geo from CDN headers', () => {
  const cloudflare = {
    'cf-ipcountry': 'DE',
    'cf-region': 'Berlin',
    'cf-ipcity': Buffer.from('Köpenick', 'utf8').toString('latin1'),
    'cf-iplatitude': '52.4450',
    'cf-iplongitude': '13.5770',
  }

  test('trusted Cloudflare headers give country, region, city and coordinates', async ({
    assert,
  }) => {
    assert.deepEqual(await behindCdn.locate('8.8.8.8', cloudflare), {
      country: 'DE',
      region: 'Berlin',
      city: 'Köpenick',
      latitude: 52.445,
      longitude: 13.577,
    })
  })

  test('CloudFront and Vercel headers are read too', async ({ assert }) => {
    assert.deepEqual(
      await behindCdn.locate('8.8.8.8', {
        'cloudfront-viewer-country': 'FR',
        'cloudfront-viewer-city': 'Lyon',
      }),
      { country: 'FR', city: 'Lyon' }
    )
    assert.deepEqual(
      await behindCdn.locate('8.8.8.8', {
        'x-vercel-ip-country': 'BR',
        'x-vercel-ip-city': 'S%C3%A3o%20Paulo',
        'x-vercel-ip-latitude': '-23.55',
      }),
      { country: 'BR', city: 'São Paulo', latitude: -23.55 }
    )
  })

  test('without TRUST_CDN_GEO_HEADERS the headers are ignored', async ({ assert }) => {
    assert.deepEqual(await offline.locate('8.8.8.8', cloudflare), { country: 'US' })
    assert.deepEqual(await offline.locate('10.0.0.1', cloudflare), {})
  })

  test('an unknown CDN country (XX, Tor) falls back to the database; junk values are dropped', async ({
    assert,
  }) => {
    assert.deepEqual(await behindCdn.locate('8.8.8.8', { 'cf-ipcountry': 'XX' }), { country: 'US' })
    assert.deepEqual(await behindCdn.locate('8.8.8.8', { 'cf-ipcountry': 'T1' }), { country: 'US' })
    assert.deepEqual(
      await behindCdn.locate('10.0.0.1', {
        'cf-ipcountry': 'nl',
        'cf-iplatitude': 'north',
        'cf-iplongitude': '500',
      }),
      { country: 'NL' }
    )
  })
})
