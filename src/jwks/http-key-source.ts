import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { BlockList, isIP } from 'node:net'
import type { ClientKeySource } from '../core/credentials/client-keys.js'
import { MAX_JWKS_BYTES } from '../core/credentials/client-jwks.js'

export interface HttpKeySourceOptions {
  /** The whole fetch, connection to last byte (default 3 s). */
  timeoutMs?: number
  /** A larger answer is refused unread (default 64 KiB). */
  maxBytes?: number
  /** Plain http URLs are fetched too (outside production); https only otherwise. */
  allowHttp: boolean
  /**
   * Loopback, private, link-local and other non-public addresses may be fetched (outside
   * production: a JWKS on localhost in a test). In production a jwks_uri whose host is or
   * resolves to one is refused, so a client registration cannot make Gatehouse probe its own
   * network. The check is on the address actually connected to, so DNS rebinding gains nothing.
   */
  allowPrivateAddresses: boolean
}

export class KeySourceError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'KeySourceError'
  }
}

/** Addresses that are not on the public internet (RFC 6890 and friends). */
const NON_PUBLIC = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4')
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b:1::', 48],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6')
}

export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 0) return true
  if (family === 6) {
    // An IPv4-mapped address (::ffff:10.0.0.1) is that IPv4 address.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
    if (mapped) return NON_PUBLIC.check(mapped[1] as string, 'ipv4')
    return NON_PUBLIC.check(address, 'ipv6')
  }
  return NON_PUBLIC.check(address, 'ipv4')
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/** dns.lookup, refusing every non-public address it would connect to. */
function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, [])
    const refused = addresses.find((entry) => isNonPublicAddress(entry.address))
    if (refused) return callback(Object.assign(new KeySourceError(`jwks_uri host ${hostname} resolves to a non-public address (${refused.address})`), { code: 'EJWKSADDRESS' }), [])
    if (options.all) return callback(null, addresses)
    const first = addresses[0]
    if (!first) return callback(Object.assign(new KeySourceError(`jwks_uri host ${hostname} has no address`), { code: 'ENOTFOUND' }), [])
    callback(null, first.address, first.family)
  })
}

/**
 * Fetches a client's `jwks_uri` (ClientKeySource): one GET, `Accept: application/jwk-set+json`,
 * at most `timeoutMs` from start to last byte and `maxBytes` of body, no redirect followed (a
 * 3xx is a failure, as every status but 200), https only unless `allowHttp`. Caching and how
 * often a URL may be fetched are the core's (ClientKeys); this only fetches.
 */
export class HttpKeySource implements ClientKeySource {
  readonly #timeoutMs: number
  readonly #maxBytes: number
  readonly #options: HttpKeySourceOptions

  constructor(options: HttpKeySourceOptions) {
    this.#options = options
    this.#timeoutMs = options.timeoutMs ?? 3000
    this.#maxBytes = options.maxBytes ?? MAX_JWKS_BYTES
  }

  fetchJwks(uri: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let url: URL
      try {
        url = new URL(uri)
      } catch {
        return reject(new KeySourceError('jwks_uri is not a URL'))
      }
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.#options.allowHttp)) return reject(new KeySourceError(`jwks_uri scheme ${url.protocol} is not allowed`))
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
      if (!this.#options.allowPrivateAddresses && isIP(host) !== 0 && isNonPublicAddress(host)) return reject(new KeySourceError(`jwks_uri host ${host} is a non-public address`))
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest
      let settled = false
      const finish = (error: Error | undefined, value?: unknown): void => {
        if (settled) return
        settled = true
        clearTimeout(deadline)
        if (error) reject(error)
        else resolve(value)
      }
      const request = send(url, {
        method: 'GET',
        headers: { accept: 'application/jwk-set+json, application/json;q=0.9', 'user-agent': 'gatehouse (jwks_uri fetch)' },
        // A fresh connection each time: no agent pool keeps sockets to client hosts.
        agent: false,
        ...(this.#options.allowPrivateAddresses ? {} : { lookup: publicOnlyLookup }),
      })
      const deadline = setTimeout(() => {
        request.destroy(new KeySourceError(`jwks_uri did not answer within ${this.#timeoutMs} ms`))
      }, this.#timeoutMs)
      request.on('error', (error) => finish(error instanceof KeySourceError ? error : new KeySourceError(`jwks_uri fetch failed: ${error.message}`)))
      request.on('response', (response: IncomingMessage) => {
        if (response.statusCode !== 200) {
          response.resume()
          request.destroy()
          return finish(new KeySourceError(`jwks_uri answered HTTP ${response.statusCode ?? '?'}${response.statusCode !== undefined && response.statusCode >= 300 && response.statusCode < 400 ? ' (redirects are not followed)' : ''}`))
        }
        const declared = Number(response.headers['content-length'] ?? 0)
        if (declared > this.#maxBytes) {
          request.destroy()
          return finish(new KeySourceError(`jwks_uri answer is larger than ${this.#maxBytes} bytes`))
        }
        const chunks: Buffer[] = []
        let size = 0
        response.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > this.#maxBytes) {
            request.destroy()
            finish(new KeySourceError(`jwks_uri answer is larger than ${this.#maxBytes} bytes`))
            return
          }
          chunks.push(chunk)
        })
        response.on('error', (error) => finish(new KeySourceError(`jwks_uri answer broke off: ${error.message}`)))
        response.on('end', () => {
          try {
            finish(undefined, JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown)
          } catch {
            finish(new KeySourceError('jwks_uri answer is not JSON'))
          }
        })
      })
      request.end()
    })
  }
}
