/**
 * RFC 9449 (DPoP) on the client's side, for `gatehouse-client`: proofs signed with WebCrypto
 * (`globalThis.crypto`), no package and no Node-only API, and the server nonces it was given.
 */

type Subtle = typeof globalThis.crypto.subtle
/** WebCrypto's CryptoKey, named through `globalThis.crypto` (no DOM library nor Node types needed). */
export type DpopCryptoKey = Parameters<Subtle['sign']>[1]
type SignParams = Parameters<Subtle['sign']>[0]

/** The public members of a JWK (RFC 7517); what `crypto.subtle.exportKey('jwk', publicKey)` gives. */
export interface DpopPublicJwk {
  kty?: string
  crv?: string
  x?: string
  y?: string
  n?: string
  e?: string
}

/**
 * The key a client proves possession of: a WebCrypto private key (ECDSA P-256, RSASSA-PKCS1-v1_5
 * or RSA-PSS with SHA-256, or Ed25519; it may be non-extractable) and its public JWK.
 *
 * @example
 * ```ts
 * const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
 * const dpop: DpopKeyPair = { privateKey: pair.privateKey, publicJwk: await crypto.subtle.exportKey('jwk', pair.publicKey) }
 * ```
 */
export interface DpopKeyPair {
  privateKey: DpopCryptoKey
  publicJwk: DpopPublicJwk
}

/** What a signer needs to know of the key: the JWS `alg` and the WebCrypto signature parameters. */
interface SigningAlgorithm {
  alg: 'ES256' | 'RS256' | 'PS256' | 'EdDSA'
  params: SignParams
}

function signingAlgorithm(key: DpopCryptoKey): SigningAlgorithm {
  const algorithm = key.algorithm as { name: string; namedCurve?: string; hash?: { name: string } }
  const hash = algorithm.hash?.name
  if (algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256') return { alg: 'ES256', params: { name: 'ECDSA', hash: 'SHA-256' } }
  if (algorithm.name === 'RSASSA-PKCS1-v1_5' && hash === 'SHA-256') return { alg: 'RS256', params: { name: 'RSASSA-PKCS1-v1_5' } }
  if (algorithm.name === 'RSA-PSS' && hash === 'SHA-256') return { alg: 'PS256', params: { name: 'RSA-PSS', saltLength: 32 } }
  if (algorithm.name === 'Ed25519') return { alg: 'EdDSA', params: { name: 'Ed25519' } }
  throw new TypeError(`a DPoP key must be ECDSA P-256, RSASSA-PKCS1-v1_5 or RSA-PSS with SHA-256, or Ed25519 (got ${algorithm.name})`)
}

/** RFC 7517: only the public members go in the proof's header. */
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const

function publicOnly(jwk: DpopPublicJwk): Record<string, string> {
  const result: Record<string, string> = {}
  for (const member of PUBLIC_MEMBERS) {
    const value = jwk[member]
    if (typeof value === 'string') result[member] = value
  }
  return result
}

const encoder = new TextEncoder()

function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** `base64url(SHA-256(access token))`, the `ath` claim (RFC 9449 §4.2). */
async function accessTokenHash(accessToken: string): Promise<string> {
  return base64url(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', encoder.encode(accessToken))))
}

/** RFC 9449 §4.2: `htu` is the URL without query and fragment. */
function targetUri(url: string | URL): URL {
  const target = new URL(url)
  target.search = ''
  target.hash = ''
  return target
}

/**
 * Signs proofs with one key and remembers, per origin, the last `DPoP-Nonce` a server sent
 * (RFC 9449 §8, §9), which the next proof to that origin carries.
 */
export class DpopSigner {
  readonly #key: Promise<{ privateKey: DpopCryptoKey; jwk: Record<string, string>; algorithm: SigningAlgorithm }>
  readonly #nonces = new Map<string, string>()
  readonly #now: () => number

  constructor(key: DpopKeyPair | true, now: () => number) {
    this.#now = now
    this.#key = (key === true ? generated() : Promise.resolve(key)).then((pair) => ({
      privateKey: pair.privateKey,
      jwk: publicOnly(pair.publicJwk),
      algorithm: signingAlgorithm(pair.privateKey),
    }))
    // The key is made on first use; a failure shows then, not as an unhandled rejection now.
    this.#key.catch(() => undefined)
  }

  /** One proof for `method url`, with `ath` when an access token goes with it. */
  async proof(method: string, url: string | URL, accessToken?: string): Promise<string> {
    const { privateKey, jwk, algorithm } = await this.#key
    const target = targetUri(url)
    const claims: Record<string, unknown> = { jti: globalThis.crypto.randomUUID(), htm: method.toUpperCase(), htu: target.href, iat: Math.floor(this.#now() / 1000) }
    const nonce = this.#nonces.get(target.origin)
    if (nonce !== undefined) claims.nonce = nonce
    if (accessToken !== undefined) claims.ath = await accessTokenHash(accessToken)
    const input = `${base64url(encoder.encode(JSON.stringify({ typ: 'dpop+jwt', alg: algorithm.alg, jwk })))}.${base64url(encoder.encode(JSON.stringify(claims)))}`
    const signature = await globalThis.crypto.subtle.sign(algorithm.params, privateKey, encoder.encode(input))
    return `${input}.${base64url(new Uint8Array(signature))}`
  }

  /**
   * Keeps the `DPoP-Nonce` of an answer from `url`'s origin; true when it is a new one (so a
   * `use_dpop_nonce` refusal is worth one more try).
   */
  rememberNonce(url: string | URL, headers: Headers | undefined): boolean {
    const nonce = headers?.get('dpop-nonce')
    if (nonce === null || nonce === undefined || nonce === '') return false
    const origin = new URL(url).origin
    if (this.#nonces.get(origin) === nonce) return false
    this.#nonces.set(origin, nonce)
    return true
  }
}

/** `dpop: true`: a fresh ES256 key pair whose private half cannot be exported. */
async function generated(): Promise<DpopKeyPair> {
  const pair = await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
  return { privateKey: pair.privateKey, publicJwk: await globalThis.crypto.subtle.exportKey('jwk', pair.publicKey) }
}

/** RFC 9449 §9: a resource's 401 asking for a nonce names `use_dpop_nonce` in its DPoP challenge. */
export function asksForNonce(response: Response): boolean {
  return response.status === 401 && /\bDPoP\b[^]*error="use_dpop_nonce"/i.test(response.headers.get('www-authenticate') ?? '')
}
