import { BearerTokenError } from './bearer.js'

/**
 * RFC 7662 §2.2 members the verifier reads; the rest is passed through as claims.
 *
 * @example
 * ```ts
 * const token = await verifier.verify('sk-…')
 * const answer = token.claims as IntrospectionAnswer // { active: true, scope, client_id, sub, exp, … }
 * ```
 */
export interface IntrospectionAnswer {
  active: boolean
  scope?: string
  client_id?: string
  sub?: string
  aud?: string | string[]
  iss?: string
  exp?: number
  nbf?: number
  token_type?: string
  [claim: string]: unknown
}

export interface IntrospectionOptions {
  url: string
  clientId: string
  clientSecret: string
  issuer: string
  audience: string | string[]
  /** Longest time an answer is reused, in seconds. */
  cacheTtlSeconds: number
  maxEntries: number
  fetch: typeof globalThis.fetch
  now: () => number
}

interface CacheEntry {
  /** The active answer, or the refusal to repeat. */
  outcome: IntrospectionAnswer | BearerTokenError
  until: number
}

/**
 * Opaque tokens checked by RFC 7662 introspection with the resource server's own credentials.
 * An answer is reused until the token expires, at most `cacheTtlSeconds` (a revocation takes
 * that long to be seen); concurrent checks of one token share one request.
 */
export class IntrospectionCache {
  readonly #options: IntrospectionOptions
  readonly #authorization: string
  readonly #cache = new Map<string, CacheEntry>()
  readonly #pending = new Map<string, Promise<IntrospectionAnswer>>()

  constructor(options: IntrospectionOptions) {
    this.#options = options
    const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+')
    // RFC 6749 §2.3.1 (which RFC 7662 §2.1 uses): form-encode, then base64.
    this.#authorization = 'Basic ' + btoa(`${encode(options.clientId)}:${encode(options.clientSecret)}`)
  }

  async check(token: string): Promise<IntrospectionAnswer> {
    const now = this.#options.now()
    const cached = this.#cache.get(token)
    if (cached && now < cached.until) {
      if (cached.outcome instanceof BearerTokenError) throw cached.outcome
      return cached.outcome
    }
    if (cached) this.#cache.delete(token)
    let pending = this.#pending.get(token)
    if (!pending) {
      pending = this.#introspect(token).finally(() => this.#pending.delete(token))
      this.#pending.set(token, pending)
    }
    return pending
  }

  /** Entries currently cached (for tests and metrics). */
  get size(): number {
    return this.#cache.size
  }

  async #introspect(token: string): Promise<IntrospectionAnswer> {
    const response = await this.#options.fetch(this.#options.url, {
      method: 'POST',
      headers: { authorization: this.#authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ token }).toString(),
      redirect: 'error',
    })
    const text = await response.text()
    // A refused resource server or a broken server is the operator's problem, not the caller's token.
    if (response.status !== 200) throw new Error(`token introspection answered HTTP ${response.status}`)
    const answer = JSON.parse(text) as IntrospectionAnswer
    const now = this.#options.now()
    const ttlEnd = now + this.#options.cacheTtlSeconds * 1000
    const refusal = this.#refusal(answer, now)
    if (refusal) {
      // An inactive token never becomes active again, so the refusal can be reused as long.
      this.#store(token, { outcome: refusal, until: ttlEnd })
      throw refusal
    }
    this.#store(token, { outcome: answer, until: Math.min(ttlEnd, (answer.exp ?? Infinity) * 1000) })
    return answer
  }

  /** RFC 7662 §4: the resource server still checks what the answer says. */
  #refusal(answer: IntrospectionAnswer, now: number): BearerTokenError | undefined {
    if (answer.active !== true) return new BearerTokenError('invalid_token', 'inactive', 'The access token is invalid')
    // Gatehouse also introspects refresh tokens; those are not access tokens. A DPoP one (RFC 9449 §6.2) carries cnf.jkt, checked by the verifier.
    const tokenType = answer.token_type?.toLowerCase()
    const bound = typeof answer.cnf === 'object' && answer.cnf !== null && typeof (answer.cnf as Record<string, unknown>).jkt === 'string'
    if (tokenType !== undefined && tokenType !== 'bearer' && !(tokenType === 'dpop' && bound)) {
      return new BearerTokenError('invalid_token', 'claims', 'The access token is invalid')
    }
    if (answer.iss !== undefined && answer.iss !== this.#options.issuer) return new BearerTokenError('invalid_token', 'issuer', 'The access token is invalid')
    if (!audienceMatches(answer.aud, this.#options.audience)) return new BearerTokenError('invalid_token', 'audience', 'The access token is invalid')
    if (answer.exp !== undefined && answer.exp * 1000 <= now) return new BearerTokenError('invalid_token', 'expired', 'The access token expired')
    return undefined
  }

  #store(token: string, entry: CacheEntry): void {
    if (this.#cache.size >= this.#options.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.#cache.keys().next()
      if (!oldest.done) this.#cache.delete(oldest.value)
    }
    this.#cache.set(token, entry)
  }
}

function audienceMatches(aud: string | string[] | undefined, expected: string | string[]): boolean {
  if (aud === undefined) return false
  const presented = Array.isArray(aud) ? aud : [aud]
  const wanted = Array.isArray(expected) ? expected : [expected]
  return presented.some((value) => wanted.includes(value))
}
