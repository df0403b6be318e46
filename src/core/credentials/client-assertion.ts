import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose'
import type { Clock } from '../clock.js'
import { OAuthError } from '../errors.js'
import type { Client } from '../types.js'
import type { AssertionJtiStore } from './assertion-jti-store.js'
import { ASSERTION_SIGNING_ALGS } from './client-jwks.js'
import type { ClientKeys } from './client-keys.js'

/** OpenID Connect Core §9 / RFC 7523 §3: a short-lived assertion. `exp` at most this far ahead. */
export const ASSERTION_MAX_LIFETIME_SECONDS = 300
/** Clocks of client and server disagree by this much at most (exp, nbf, iat). */
export const ASSERTION_CLOCK_SKEW_SECONDS = 30
/** A compact JWS longer than this is no client assertion (an RSA-4096 one is under 2 KiB). */
export const MAX_ASSERTION_LENGTH = 8192
const MAX_JTI_LENGTH = 256

/** Printable, bounded: what a client id or `jti` from inside an unverified JWT may be before it reaches the store. */
const storable = (value: string, max: number): boolean => value !== '' && value.length <= max && !/[\u0000-\u001f\u007f-\u009f]/.test(value)

/**
 * Whom an assertion claims to come from, read without verifying it (its `sub`, else `iss`):
 * the client to look up when the body names none. Undefined when it cannot be read or could
 * not be a client id; the assertion is then refused like any other.
 */
export function assertedClientId(assertion: string): string | undefined {
  if (assertion.length > MAX_ASSERTION_LENGTH) return undefined
  try {
    const claims = decodeJwt(assertion)
    const id = typeof claims.sub === 'string' ? claims.sub : typeof claims.iss === 'string' ? claims.iss : undefined
    return id !== undefined && storable(id, 200) ? id : undefined
  } catch {
    return undefined
  }
}

/**
 * Public keys of no one (generated once for this file, private halves discarded): an assertion
 * naming an unknown client, or a client that does not use private_key_jwt, is verified against
 * one of the same type, so the answer takes about as long as for a real client's bad signature.
 */
const DECOY_KEYS = createLocalJWKSet({
  keys: [
    { kty: 'EC', crv: 'P-256', x: 'sHhorcACutmjbhcFa8GFg0OPi90LLrsCUzMWFlVzWLk', y: 'AhAris5erduc1lf9990WZttCxCBRwld48-5uRfdVSk0' },
    {
      kty: 'RSA',
      e: 'AQAB',
      n: 'tMqEK1rzkf8TI6V9-HZ8rFc1ACHTwCT3ZvNM1oy5ff5zG9r0IxmOz2l-UAVSFUSe3zA5nSyRFwsQkEqoK207ULGCwjBLRrzP8dpwd8QmaVIFKAiR1gI84lH5q-_RjYyrSicAxeaiid2M4zJNG3U-8-TpJLGkRv8rQtQAn714hFbE3vM3amyeNP1xWM6GM7MUz2RfnqwV4HCZBexkqbYYCnzpy5-e5dvkv536S_iQJAMpu6pSkQ4j-FUm2-E6jyVAk0FiXoZXzHhaWdTTp8qXqm_Jfjp0r2wHcvVGdoBK4IBaMxrysizyGEdSqv4YqZ8PZ41-qND9wlFMk3GX-ix8jw',
    },
    { kty: 'OKP', crv: 'Ed25519', x: 'GUfrAV0aIaa_4KxyeDEtpdqh0o7vKYGsHStUlYsiJhg' },
  ],
})
const decoyKey: JWTVerifyGetKey = (header) => DECOY_KEYS({ alg: header.alg ?? 'ES256' })

/** One answer for every failure, as for a wrong secret; `debug` (logged, never sent) says why. */
const refused = (debug: string): OAuthError => new OAuthError('invalid_client', { description: 'Client authentication failed.', debug })

/** Why jose refused an assertion, in a few words for the log. */
function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return `assertion expired (${error.claim})`
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `assertion claim ${error.claim} refused: ${error.reason}`
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'assertion signature does not verify'
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no registered key matches the assertion (kid, alg)'
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'assertion alg not allowed'
  if (error instanceof joseErrors.JOSEError) return `assertion refused (${error.code})`
  return 'assertion malformed'
}

/** jwtVerify against a key set, trying each key when several match (no `kid`, two keys of one type). */
async function verifyWithKeys(assertion: string, keys: JWTVerifyGetKey, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(assertion, keys, options)).payload
  } catch (error) {
    if (!(error instanceof joseErrors.JWKSMultipleMatchingKeys)) throw error
    let last: unknown = error
    for await (const key of error) {
      try {
        return (await jwtVerify(assertion, key, options)).payload
      } catch (attempt) {
        if (!(attempt instanceof joseErrors.JWSSignatureVerificationFailed)) throw attempt
        last = attempt
      }
    }
    throw last
  }
}

export interface ClientAssertionDeps {
  /** The issuer: always an accepted `aud`, and the base of the endpoint URLs that are. */
  issuer: string
  clock: Clock
  keys: ClientKeys
  /** Where accepted `jti` values are kept until they expire; without it no assertion is accepted. */
  jtis?: AssertionJtiStore
}

/**
 * `private_key_jwt` (RFC 7523 §2.2, §3; OpenID Connect Core §9): a client proves itself with a
 * JWT it signed with one of its registered keys. Checked here, knowing nothing of HTTP:
 * - `alg` ES256, RS256, PS256 or EdDSA, and the key the header selects must be of that type;
 *   `none` and HS* are refused before any key is looked at (RFC 8725 §2.1);
 * - `iss` = `sub` = the client id;
 * - `aud` the issuer, or the URL of the endpoint the request came to (issuer + route path);
 * - `exp` required, at most 5 minutes ahead; `nbf` and `iat` honoured when present (30 s skew);
 * - `jti` required, and accepted once across every instance (the store's unique key) until
 *   the assertion has expired.
 * Every failure is `invalid_client` "Client authentication failed."; `debug` says why.
 */
export class ClientAssertionVerifier {
  readonly #deps: ClientAssertionDeps

  constructor(deps: ClientAssertionDeps) {
    this.#deps = deps
  }

  /** The `aud` values accepted at an endpoint: the issuer, and the endpoint's URL under it. */
  audiences(endpointPath: string | undefined): string[] {
    const issuer = this.#deps.issuer
    return endpointPath === undefined || endpointPath === '' ? [issuer] : [issuer, issuer + endpointPath]
  }

  /**
   * The client, when `assertion` authenticates it (found by the claimed id; undefined when
   * there is no such client); throws invalid_client otherwise. Store failures propagate as they are.
   */
  async verify(client: Client | undefined, assertion: string, endpointPath?: string): Promise<Client> {
    if (assertion.length > MAX_ASSERTION_LENGTH) throw refused('assertion too long')
    let alg: unknown
    try {
      alg = decodeProtectedHeader(assertion).alg
    } catch {
      throw refused('assertion malformed (not a compact JWS)')
    }
    if (!ASSERTION_SIGNING_ALGS.some((allowed) => allowed === alg)) throw refused(`assertion alg ${JSON.stringify(alg)} not allowed (ES256, RS256, PS256, EdDSA only)`)
    const now = this.#deps.clock.now()
    const options: JWTVerifyOptions = {
      algorithms: [...ASSERTION_SIGNING_ALGS],
      audience: this.audiences(endpointPath),
      currentDate: new Date(now),
      clockTolerance: ASSERTION_CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp', 'jti'],
      ...(client ? { issuer: client.id, subject: client.id } : {}),
    }
    if (!client || client.tokenEndpointAuthMethod !== 'private_key_jwt') {
      await verifyWithKeys(assertion, decoyKey, options).catch(() => undefined)
      throw refused(client ? `client authenticates with ${client.tokenEndpointAuthMethod}, not private_key_jwt` : 'unknown client id')
    }
    const claims = await this.#verifySignature(client, assertion, options)
    const exp = claims.exp ?? 0
    const nowSeconds = Math.floor(now / 1000)
    if (exp > nowSeconds + ASSERTION_MAX_LIFETIME_SECONDS + ASSERTION_CLOCK_SKEW_SECONDS) throw refused(`assertion exp is more than ${ASSERTION_MAX_LIFETIME_SECONDS} s ahead`)
    if (claims.iat !== undefined && claims.iat > nowSeconds + ASSERTION_CLOCK_SKEW_SECONDS) throw refused('assertion iat is in the future')
    const jti = claims.jti
    if (typeof jti !== 'string' || !storable(jti, MAX_JTI_LENGTH)) throw refused(`assertion jti must be 1 to ${MAX_JTI_LENGTH} printable characters`)
    const jtis = this.#deps.jtis
    if (!jtis) throw refused('private_key_jwt needs a jti store, and this engine has none')
    // Kept while the assertion could still pass the exp check here (exp + skew), never less.
    const expiresAt = (exp + ASSERTION_CLOCK_SKEW_SECONDS) * 1000
    if (!(await jtis.rememberAssertionJti(client.id, jti, expiresAt, now))) throw refused('assertion replayed (its jti was seen before)')
    return client
  }

  async #verifySignature(client: Client, assertion: string, options: JWTVerifyOptions): Promise<JWTPayload> {
    const keys = await this.#deps.keys.current(client)
    if (!keys) {
      await verifyWithKeys(assertion, decoyKey, options).catch(() => undefined)
      throw refused(client.jwksUri !== null ? 'the client\'s jwks_uri could not be fetched' : 'the client has no keys')
    }
    try {
      return await verifyWithKeys(assertion, keys, options)
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw refused(reasonOf(error))
    }
    // A kid (or key type) none of the cached keys has: the client may have rotated its keys.
    const fresh = await this.#deps.keys.refreshed(client)
    if (!fresh) throw refused('no registered key matches the assertion (kid, alg)')
    try {
      return await verifyWithKeys(assertion, fresh, options)
    } catch (error) {
      throw refused(reasonOf(error))
    }
  }
}
