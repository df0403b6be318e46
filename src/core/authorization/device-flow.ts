import type { ClientCache } from '../client-cache.js'
import type { Clock } from '../clock.js'
import { digestSecret } from '../credentials/secrets.js'
import { OAuthError } from '../errors.js'
import type { Random } from '../random.js'
import { grantScopes } from '../scope.js'
import { DuplicateError } from '../store-errors.js'
import { DEVICE_CODE_GRANT, STANDARD_POLICY, type Client, type DialectPolicy } from '../types.js'
import type { Authorizer, ScopeDescription } from './authorizer.js'
import type { Consents } from './consents.js'
import type { DeviceAuthorizationRecord, DeviceAuthorizationStore } from './device-authorization-store.js'
import type { LiveSession } from './sign-in-sessions.js'
import type { UserCodeThrottle } from './user-code-throttle.js'

/** RFC 8628 §6.1: consonants only (no vowels, so no words), and no letters easily mistaken for each other. */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ'
export const USER_CODE_LENGTH = 8
/** The verification page, under the issuer (RFC 8628 §3.2 `verification_uri`). */
export const DEVICE_VERIFICATION_PATH = '/device'

/** The largest multiple of the alphabet's size below 256: bytes at or above it are drawn again. */
const UNBIASED_LIMIT = 256 - (256 % USER_CODE_ALPHABET.length)
const USER_CODE = new RegExp(`^[${USER_CODE_ALPHABET}]{${USER_CODE_LENGTH}}$`)
/** How many user codes to try when one is taken (a collision among live codes is ~1 in 2^34 per code). */
const USER_CODE_ATTEMPTS = 5

const scopeList = (scope: string): string[] => (scope === '' ? [] : scope.split(' '))

/** RFC 8628 §3.2: the device authorization response, before the wire names it. */
export interface DeviceAuthorizationAnswer {
  deviceCode: string
  /** Shown as `XXXX-XXXX`. */
  userCode: string
  verificationUri: string
  verificationUriComplete: string
  /** Seconds. */
  expiresIn: number
  /** Seconds between polls. */
  interval: number
}

export interface DeviceFlowOptions {
  /** RFC 8628 §3.2 `expires_in` of a device code (default 600 s). */
  lifetimeSeconds: number
  /** RFC 8628 §3.2 `interval` the device waits between polls (default 5 s). */
  intervalSeconds: number
}

export const DEFAULT_DEVICE_FLOW_OPTIONS: DeviceFlowOptions = { lifetimeSeconds: 600, intervalSeconds: 5 }

/** A pending, unexpired authorization a person typed the code of: what the confirmation page shows. */
export interface PendingDevice {
  /** The code as the device shows it (`XXXX-XXXX`). */
  userCode: string
  record: DeviceAuthorizationRecord
  client: Client
  scopes: ScopeDescription[]
}

/** What a typed user code led to. Every kind but `found` and `malformed` counts as a failed guess. */
export type DeviceLookup =
  | { kind: 'found'; device: PendingDevice }
  /** Not 8 letters of the alphabet (ignoring case, dashes and spaces): no lookup was made. */
  | { kind: 'malformed' }
  | { kind: 'unknown' }
  | { kind: 'expired' }
  /** Approved, denied or redeemed already. */
  | { kind: 'used' }
  /** Too many failed lookups from this address (or from everywhere): wait this long. */
  | { kind: 'throttled'; retryAfter: number }

export type DeviceDecisionOutcome =
  | 'approved'
  | 'denied'
  /** The client may not sign this account in (`allowedUsers`): recorded as a denial. */
  | 'not-allowed'
  /** Decided, expired or gone in the meantime: nothing changed. */
  | 'gone'

type Deps = {
  store: DeviceAuthorizationStore
  clients: Pick<ClientCache, 'get'>
  consents: Pick<Consents, 'remember'>
  authorizer: Pick<Authorizer, 'describeScopes'>
  clock: Clock
  random: Random
  issuer: string
  /** Failed user-code lookups are counted here; none when omitted (tests of the core). */
  throttle?: UserCodeThrottle
}

/**
 * Case-insensitive, dashes and spaces ignored (RFC 8628 §6.1): `bcdf-ghjk`, `BCDF GHJK` and
 * `bcdfghjk` are one code, and so are a pasted en dash and a phone keyboard's full-width letters
 * (NFKC). Undefined when the rest is not 8 letters of the alphabet.
 */
export function normalizeUserCode(text: string): string | undefined {
  if (text.length > 64) return undefined
  const code = text.normalize('NFKC').replace(/[\s\p{Pd}]+/gu, '').toUpperCase()
  return USER_CODE.test(code) ? code : undefined
}

/** `BCDFGHJK` → `BCDF-GHJK`. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`
}

/**
 * The device authorization grant (RFC 8628) without HTTP: starts an authorization for a device
 * (a CLI, a TV), finds it again by the user code a person types on the verification page, and
 * records their decision. The device polls the token endpoint meanwhile (grants/device-code.ts).
 * Only digests of both codes are stored.
 */
export class DeviceFlow {
  readonly #deps: Deps
  readonly #options: DeviceFlowOptions

  constructor(deps: Deps, options: DeviceFlowOptions = DEFAULT_DEVICE_FLOW_OPTIONS) {
    this.#deps = deps
    this.#options = options
  }

  get options(): DeviceFlowOptions {
    return this.#options
  }

  /** RFC 8628 §3.2 `verification_uri`. */
  get verificationUri(): string {
    return this.#deps.issuer + DEVICE_VERIFICATION_PATH
  }

  /**
   * RFC 8628 §3.1–3.2, for an authenticated client: it must hold the device grant
   * (`unauthorized_client`), and the scopes are checked as a user's grant would check them
   * (`invalid_scope`); none requested means the client's defaults (under the dialect's rule).
   */
  async start(client: Client, scope: string | undefined, policy: DialectPolicy = STANDARD_POLICY): Promise<DeviceAuthorizationAnswer> {
    if (!client.grantTypes.includes(DEVICE_CODE_GRANT)) {
      throw new OAuthError('unauthorized_client', { description: 'This client may not use the device authorization grant.' })
    }
    const scopes = grantScopes({ requested: scope, client, policy, forUser: true })
    const now = this.#deps.clock.now()
    // RFC 8628 §5.2 / RFC 6749 §10.10: 256 random bits; only the digest is stored.
    const deviceCode = this.#deps.random.bytes(32).toString('base64url')
    for (let attempt = 1; ; attempt++) {
      const userCode = this.#newUserCode()
      try {
        await this.#deps.store.insertDeviceAuthorization({
          deviceCodeDigest: digestSecret(deviceCode),
          userCodeDigest: digestSecret(userCode),
          clientId: client.id,
          scope: scopes.join(' '),
          audience: null,
          status: 'pending',
          userId: null,
          sessionId: null,
          authTime: null,
          interval: this.#options.intervalSeconds,
          lastPolledAt: null,
          createdAt: now,
          expiresAt: now + this.#options.lifetimeSeconds * 1000,
          usedAt: null,
          grantId: null,
        })
      } catch (error) {
        // A user code another live authorization holds: draw another.
        if (error instanceof DuplicateError && attempt < USER_CODE_ATTEMPTS) continue
        throw error
      }
      const shown = formatUserCode(userCode)
      return {
        deviceCode,
        userCode: shown,
        verificationUri: this.verificationUri,
        verificationUriComplete: `${this.verificationUri}?${new URLSearchParams({ user_code: shown })}`,
        expiresIn: this.#options.lifetimeSeconds,
        interval: this.#options.intervalSeconds,
      }
    }
  }

  /**
   * The pending authorization a typed code names. `source` is the address it was typed from:
   * failed lookups from it (and from everywhere) are throttled (RFC 8628 §5.1), and a
   * throttled address is refused before any lookup.
   */
  async findByUserCode(text: string, source: string): Promise<DeviceLookup> {
    const code = normalizeUserCode(text)
    if (code === undefined) return { kind: 'malformed' }
    const throttle = this.#deps.throttle
    const waiting = throttle?.waitFor(source) ?? 0
    if (waiting > 0) return { kind: 'throttled', retryAfter: waiting }
    const found = await this.#lookUp(code)
    if (found.kind === 'found' || !throttle) return found
    const retryAfter = await throttle.failed(source)
    return retryAfter > 0 ? { kind: 'throttled', retryAfter } : found
  }

  /**
   * The person's answer on the confirmation page, signed in as `live`. An account the client may
   * not sign in (`allowedUsers`, as at the authorization endpoint) is recorded as a denial, so
   * the device hears `access_denied` at once. An approval remembers the consent (Consents).
   */
  async decide(device: PendingDevice, live: LiveSession, decision: 'allow' | 'deny'): Promise<DeviceDecisionOutcome> {
    const { client, record } = device
    const { user, session } = live
    const allowed = client.allowedUsers === null || client.allowedUsers.includes(user.id)
    const approve = allowed && decision === 'allow'
    const decided = await this.#deps.store.decideDeviceAuthorization(
      record.userCodeDigest,
      { status: approve ? 'approved' : 'denied', userId: user.id, sessionId: session.id, authTime: session.authTime, scope: record.scope },
      this.#deps.clock.now(),
    )
    if (!decided) return 'gone'
    if (!allowed) return 'not-allowed'
    if (!approve) return 'denied'
    await this.#deps.consents.remember(user.id, client.id, scopeList(record.scope))
    return 'approved'
  }

  async #lookUp(code: string): Promise<DeviceLookup> {
    const record = await this.#deps.store.findDeviceAuthorizationByUserCode(digestSecret(code))
    // A deleted client's authorizations go with it; in the meantime it is as good as unknown.
    const client = record ? await this.#deps.clients.get(record.clientId) : undefined
    if (!record || !client) return { kind: 'unknown' }
    // Single-use store operations do not check expiry: the core does.
    if (record.expiresAt <= this.#deps.clock.now()) return { kind: 'expired' }
    if (record.status !== 'pending' || record.usedAt !== null) return { kind: 'used' }
    return { kind: 'found', device: { userCode: formatUserCode(code), record, client, scopes: this.#deps.authorizer.describeScopes(scopeList(record.scope)) } }
  }

  /** 8 letters of the alphabet, each from a byte below UNBIASED_LIMIT (rejection sampling: no modulo bias). */
  #newUserCode(): string {
    let code = ''
    while (code.length < USER_CODE_LENGTH) {
      for (const byte of this.#deps.random.bytes(USER_CODE_LENGTH * 2)) {
        if (byte >= UNBIASED_LIMIT) continue
        code += USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length]
        if (code.length === USER_CODE_LENGTH) break
      }
    }
    return code
  }
}
