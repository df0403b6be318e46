import { constants, createHash, createPublicKey, verify, type KeyObject } from 'node:crypto'
import { BoundedMap } from '../bounded-map.js'

/**
 * The signature of a DPoP proof (RFC 9449 §4.3 steps 5–7) with node:crypto, synchronously. The
 * token endpoint checks one proof per request, so this is on a benchmarked path: jose's
 * WebCrypto route (import the JWK, verify, digest the thumbprint — three awaits) cost several
 * times one ES256 verification (docs/design.md, "DPoP"). Only the four asymmetric algorithms of
 * DPOP_ALGS are known here; anything else finds no key.
 */

export type DpopAlg = 'ES256' | 'RS256' | 'PS256' | 'EdDSA'

/** RFC 7638 §3.2: the required members of each key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] }

/** Which key an algorithm takes (RFC 7518 §3, RFC 8037 §3.1); RSA keys of at least 2048 bits (RFC 7518 §3.3). */
function fitsAlg(jwk: Record<string, unknown>, alg: DpopAlg): boolean {
  switch (alg) {
    case 'ES256':
      return jwk.kty === 'EC' && jwk.crv === 'P-256'
    case 'RS256':
    case 'PS256':
      return jwk.kty === 'RSA'
    case 'EdDSA':
      return jwk.kty === 'OKP' && jwk.crv === 'Ed25519'
  }
}

/** The RFC 7638 members as canonical JSON, or undefined when one is missing or not a string. */
function canonicalMembers(jwk: Record<string, unknown>): string | undefined {
  const members = typeof jwk.kty === 'string' ? THUMBPRINT_MEMBERS[jwk.kty] : undefined
  if (members === undefined) return undefined
  const parts: string[] = []
  for (const member of members) {
    const value = jwk[member]
    if (typeof value !== 'string' || value.length === 0 || value.length > 1400) return undefined
    parts.push(`${JSON.stringify(member)}:${JSON.stringify(value)}`)
  }
  return `{${parts.join(',')}}`
}

/** RFC 7638 SHA-256 thumbprint of a public JWK, base64url; undefined for a key type DPoP does not take. */
export function jwkThumbprint(jwk: Record<string, unknown>): string | undefined {
  const canonical = canonicalMembers(jwk)
  return canonical === undefined ? undefined : createHash('sha256').update(canonical).digest('base64url')
}

/**
 * Imported keys by their canonical members: a client sends the same key with every proof, and
 * importing it is a third of the work. Bounded, so a stream of fresh keys cannot grow it.
 */
const imported = new BoundedMap<string, KeyObject | null>(2048)

function publicKeyOf(canonical: string): KeyObject | null {
  const cached = imported.get(canonical)
  if (cached !== undefined) return cached
  let key: KeyObject | null
  try {
    key = createPublicKey({ key: JSON.parse(canonical) as Record<string, string>, format: 'jwk' })
    if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) key = null
  } catch {
    key = null
  }
  imported.set(canonical, key)
  return key
}

/** RFC 7518 §3.4: ES256's signature is R‖S, 64 bytes. */
const ES256_SIGNATURE_BYTES = 64

/**
 * Verifies a compact JWS against the public JWK of its own header, for `alg`. True only for a
 * valid signature by a key of the type `alg` takes; a malformed key or signature is false.
 */
export function verifyWithEmbeddedKey(compact: string, jwk: Record<string, unknown>, alg: DpopAlg): boolean {
  if (!fitsAlg(jwk, alg)) return false
  const canonical = canonicalMembers(jwk)
  if (canonical === undefined) return false
  const key = publicKeyOf(canonical)
  if (key === null) return false
  const dot = compact.lastIndexOf('.')
  const data = Buffer.from(compact.slice(0, dot))
  const signature = Buffer.from(compact.slice(dot + 1), 'base64url')
  try {
    switch (alg) {
      case 'ES256':
        return signature.length === ES256_SIGNATURE_BYTES && verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
      case 'RS256':
        return verify('sha256', data, key, signature)
      case 'PS256':
        // RFC 7518 §3.5: MGF1 with SHA-256, a salt as long as the hash.
        return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature)
      case 'EdDSA':
        return verify(null, data, key, signature)
    }
  } catch {
    return false
  }
}
