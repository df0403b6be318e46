import { OAuthError } from '../errors.js'
import { LOCKOUT_ADDRESS_SEPARATOR, type LoginLockout, type RateLimit, type RateLimiter } from './limits.js'
import type { PasswordHashQueue } from './password-hash-queue.js'

/** Per-identity limits; null switches one off. */
export interface IdentityLimits {
  /** Requests of one authenticated client (token, introspection, revocation). */
  client: RateLimit | null
  /** Token requests through one authenticated API key. */
  apiKey: RateLimit | null
  /** Failed authentications of one client id or API key id; beyond it failures answer 429. */
  credentialFailures: RateLimit | null
}

/** What the guard refused, for metrics: which limit. */
export type LimitScope = 'ip' | 'client' | 'api_key' | 'credential_failures' | 'user_lockout' | 'password_checks'

type Deps = {
  limiter: RateLimiter
  /** Null when lockout is switched off. */
  lockout: LoginLockout | null
  limits: IdentityLimits
  /** Called on each refusal (metrics); must not block. */
  onRefused?: (scope: LimitScope) => void
  /** How long an attempt waits once the username's ceiling is reached (default 1 s). */
  slowdownMs?: number
  /** Password checks take turns by source (a flood cannot starve a person's login); none when omitted. */
  passwordChecks?: PasswordHashQueue
}

/**
 * Abuse resistance on the engine's side: identity rate limits, counted only once the identity
 * is proven (so an attacker who names a client id does not spend that client's quota), a
 * throttle on failed attempts per client id / API key id, and the username lockout.
 */
export class AbuseGuard {
  readonly #deps: Deps
  constructor(deps: Deps) {
    this.#deps = deps
  }

  /** RFC 6585 §4: an authenticated client over its quota gets 429 with Retry-After. */
  async admitClient(clientId: string): Promise<void> {
    await this.#take('client', `client:${clientId}`, this.#deps.limits.client)
  }

  async admitApiKey(keyId: string): Promise<void> {
    await this.#take('api_key', `api_key:${keyId}`, this.#deps.limits.apiKey)
  }

  /**
   * A failed client or API key authentication. Only failures spend this budget, so a valid
   * secret keeps working while an attacker hammers the id; once the budget is spent the
   * attacker's failures answer 429 instead of 401. (Secrets carry 256 bits, so this sheds
   * noise rather than defending a guessable secret; the per-IP limit bounds the rate.)
   */
  async credentialFailed(kind: 'client' | 'api_key', id: string, failure?: OAuthError): Promise<OAuthError | undefined> {
    const limit = this.#deps.limits.credentialFailures
    if (limit === null || id === '') return undefined
    const retryAfter = await this.#deps.limiter.consume(`failures:${kind}:${id}`, limit)
    if (retryAfter === 0) return undefined
    this.#deps.onRefused?.('credential_failures')
    // The failure travels as the cause: a throttled attempt is still a failed one (audit).
    return rateLimited(retryAfter, `failed authentications of ${kind} ${id} are throttled`, failure)
  }

  /**
   * Seconds the username stays locked for logins from `source` (0: not locked). The lock is kept
   * per (username, address): failures from one address lock that address out, so anyone who
   * knows a username cannot lock its owner out everywhere by guessing from elsewhere.
   */
  async userLockedFor(username: string, source: string): Promise<number> {
    if (!this.#deps.lockout) return 0
    const seconds = await this.#deps.lockout.lockedFor(lockoutKey(username, source))
    if (seconds > 0) this.#deps.onRefused?.('user_lockout')
    return seconds
  }

  /**
   * How long a login for the username waits before its password check: the per-username
   * ceiling. Failures from every address together "lock" the username's own entry, and while it
   * is locked each attempt is slowed by `slowdownMs` instead of refused: guessing from many
   * addresses gets slow, and the owner can still log in, a moment later.
   */
  async userSlowdownMs(username: string): Promise<number> {
    if (!this.#deps.lockout) return 0
    return (await this.#deps.lockout.lockedFor(username)) > 0 ? (this.#deps.slowdownMs ?? DEFAULT_SLOWDOWN_MS) : 0
  }

  /** Counts a failed login from `source` (and toward the username's ceiling); returns the ms of the lock it started for that address, or 0. */
  async userFailed(username: string, source: string): Promise<number> {
    if (!this.#deps.lockout) return 0
    const [lockedMs] = await Promise.all([this.#deps.lockout.recordFailure(lockoutKey(username, source)), this.#deps.lockout.recordFailure(username)])
    return lockedMs
  }

  /** True when a password check from `source` would be refused at once (503): the caller may refuse it before any other work. */
  passwordChecksFull(source: string): boolean {
    const full = this.#deps.passwordChecks?.full(source) ?? false
    if (full) this.#deps.onRefused?.('password_checks')
    return full
  }

  /** Runs one password check (argon2) in `source`'s turn; 503 when too many wait (see PasswordHashQueue). */
  async passwordCheck<T>(source: string, check: () => Promise<T>): Promise<T> {
    const queue = this.#deps.passwordChecks
    if (!queue) return check()
    try {
      return await queue.run(source, check)
    } catch (error) {
      if (error instanceof OAuthError && error.code === 'temporarily_unavailable') this.#deps.onRefused?.('password_checks')
      throw error
    }
  }

  async userSucceeded(username: string, source: string): Promise<void> {
    await this.#deps.lockout?.reset(lockoutKey(username, source))
  }

  /** An operator's unlock: the username may log in again at once, from every address; returns the seconds the lock had left. */
  async unlockUser(username: string): Promise<number> {
    return this.#deps.lockout ? this.#deps.lockout.clear(username) : 0
  }

  async #take(scope: LimitScope, key: string, limit: RateLimit | null): Promise<void> {
    if (limit === null) return
    const retryAfter = await this.#deps.limiter.consume(key, limit)
    if (retryAfter === 0) return
    this.#deps.onRefused?.(scope)
    throw rateLimited(retryAfter, `${key} is over its rate limit`)
  }
}

const DEFAULT_SLOWDOWN_MS = 1000

/** The lockout entry of one username tried from one address (see LoginLockout.clear). */
const lockoutKey = (username: string, source: string): string => `${username}${LOCKOUT_ADDRESS_SEPARATOR}${source}`

export function rateLimited(retryAfter: number, debug: string, cause?: OAuthError): OAuthError {
  return new OAuthError('rate_limited', { description: 'Too many requests; retry later.', debug, retryAfter, ...(cause ? { cause } : {}) })
}
