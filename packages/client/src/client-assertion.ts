/**
 * `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core §9) for the token client: a short-lived
 * JWT the client signs with its own private key instead of sending a secret. WebCrypto only
 * (`globalThis.crypto.subtle`), so it runs wherever the token client does.
 */

/** A WebCrypto key as the platform's `crypto.subtle.sign` takes it (no DOM types needed). */
export type WebCryptoKey = Parameters<typeof globalThis.crypto.subtle.sign>[1]
type SignParameters = Parameters<typeof globalThis.crypto.subtle.sign>[0]

/** RFC 7521 §4.2's `client_assertion_type` for a JWT. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/**
 * A confidential client without a secret: it signs each token request with its private key, whose
 * public half the server has (`gatehouse clients create --auth-method private_key_jwt --jwks …`).
 * The key is a WebCrypto private key usable for `sign`: ECDSA P-256 (ES256), RSASSA-PKCS1-v1_5
 * (RS256), RSA-PSS (PS256) or Ed25519 (EdDSA).
 *
 * @example
 * ```ts
 * const { privateKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
 * const credentials: PrivateKeyJwtCredentials = { clientId: 'billing-job', privateKey, keyId: 'billing-2026' }
 * ```
 */
export interface PrivateKeyJwtCredentials {
  clientId: string
  privateKey: WebCryptoKey
  /** The `kid` of the registered public key; leave it out when the client registered one key of this type. */
  keyId?: string
}

type Signing = { alg: 'ES256' | 'RS256' | 'PS256' | 'EdDSA'; params: SignParameters }

/** The JWS algorithm (RFC 7518 §3, RFC 8037) a WebCrypto key signs with, and its sign parameters. */
function signingOf(key: WebCryptoKey): Signing {
  const algorithm = key.algorithm as { name: string; namedCurve?: string; hash?: { name: string } }
  if (algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256') return { alg: 'ES256', params: { name: 'ECDSA', hash: 'SHA-256' } }
  if (algorithm.name === 'RSASSA-PKCS1-v1_5' && algorithm.hash?.name === 'SHA-256') return { alg: 'RS256', params: { name: 'RSASSA-PKCS1-v1_5' } }
  if (algorithm.name === 'RSA-PSS' && algorithm.hash?.name === 'SHA-256') return { alg: 'PS256', params: { name: 'RSA-PSS', saltLength: 32 } }
  if (algorithm.name === 'Ed25519') return { alg: 'EdDSA', params: { name: 'Ed25519' } }
  throw new TypeError(`private_key_jwt needs an ECDSA P-256, RSASSA-PKCS1-v1_5 or RSA-PSS (SHA-256) or Ed25519 private key, not ${algorithm.name}${algorithm.namedCurve ? ` ${algorithm.namedCurve}` : ''}`)
}

const base64url = (bytes: Uint8Array): string => {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
const encodeJson = (value: unknown): string => base64url(new TextEncoder().encode(JSON.stringify(value)))

/**
 * A client assertion (RFC 7523 §3): `iss` and `sub` the client id, `aud` the server (its issuer,
 * or the token endpoint URL when only that is known), 60 seconds of life, a fresh `jti` (the
 * server accepts each once).
 */
export async function signClientAssertion(credentials: PrivateKeyJwtCredentials, audience: string, nowMs: number): Promise<string> {
  const signing = signingOf(credentials.privateKey)
  const now = Math.floor(nowMs / 1000)
  const header = { alg: signing.alg, typ: 'JWT', ...(credentials.keyId !== undefined ? { kid: credentials.keyId } : {}) }
  const claims = { iss: credentials.clientId, sub: credentials.clientId, aud: audience, iat: now, exp: now + 60, jti: crypto.randomUUID() }
  const input = `${encodeJson(header)}.${encodeJson(claims)}`
  const signature = await crypto.subtle.sign(signing.params, credentials.privateKey, new TextEncoder().encode(input))
  return `${input}.${base64url(new Uint8Array(signature))}`
}
