import { randomUUID } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'

/** RFC 7523 §2.2's client_assertion_type. */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

export type AssertionAlg = 'ES256' | 'RS256' | 'PS256' | 'EdDSA'

export interface ClientKey {
  alg: AssertionAlg
  kid: string
  privateKey: CryptoKey
  /** The public JWK, with its kid (what the client registers). */
  publicJwk: JWK
}

/** A fresh key pair for a private_key_jwt client. */
export async function clientKey(alg: AssertionAlg, kid: string): Promise<ClientKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true })
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid } }
}

export interface AssertionOptions {
  clientId: string
  audience: string | string[]
  /** Seconds since the epoch; default now. */
  now?: number
  /** Claims to set, or to remove (undefined), over iss, sub, aud, iat, exp (now + 60), jti. */
  claims?: Record<string, unknown>
  /** Header members over { alg, kid }. */
  header?: Record<string, unknown>
}

/** A client assertion signed with `key` (RFC 7523 §3), with a fresh jti unless told otherwise. */
export async function signAssertion(key: ClientKey, options: AssertionOptions): Promise<string> {
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const claims: Record<string, unknown> = { iss: options.clientId, sub: options.clientId, aud: options.audience, iat: now, exp: now + 60, jti: randomUUID(), ...options.claims }
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name]
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, ...options.header } as { alg: string }).sign(key.privateKey)
}

/** The form fields of a client assertion. */
export function assertionFields(assertion: string): Record<string, string> {
  return { client_assertion_type: JWT_BEARER, client_assertion: assertion }
}
