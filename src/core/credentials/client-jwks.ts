import { importJWK, type JWK } from 'jose'
import type { ClientJwks } from '../types.js'

/**
 * The JWS algorithms a client assertion may use (RFC 7523 §3, RFC 7518): asymmetric ones only.
 * Never `none`, never HS*: a client's public key is public, so an HMAC "keyed" with it proves
 * nothing (RFC 8725 §2.1, §3.1). EdDSA is Ed25519 (RFC 8037).
 */
export const ASSERTION_SIGNING_ALGS = ['ES256', 'RS256', 'PS256', 'EdDSA'] as const
export type AssertionSigningAlg = (typeof ASSERTION_SIGNING_ALGS)[number]

/** At most this many keys in a set, and this many bytes of JSON (inline or fetched). */
export const MAX_JWKS_KEYS = 100
export const MAX_JWKS_BYTES = 64 * 1024

/** RFC 7518 §6.2.2, §6.3.2, RFC 8037 §2: the members that are private key material; `k` is a symmetric key (§6.4.1). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

/** Which algorithms each key type may verify, given the curves Gatehouse accepts. */
const ALGS_OF_KEY: Readonly<Record<string, readonly AssertionSigningAlg[]>> = { EC: ['ES256'], RSA: ['RS256', 'PS256'], OKP: ['EdDSA'] }

/** Why a JWK Set cannot be a client's: the message names the key and the reason, for operators. */
export class JwksError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'JwksError'
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** base64url length of an RSA modulus of `bits` bits, without padding. */
const base64urlLength = (bits: number): number => Math.ceil(bits / 6)

function checkKey(key: unknown, where: string): Record<string, unknown> {
  if (!isObject(key)) throw new JwksError(`${where} is not a JSON object (a JWK)`)
  const kty = key.kty
  if (kty === 'oct') throw new JwksError(`${where} is a symmetric key (kty "oct"): register public keys only (EC P-256, RSA or Ed25519); a shared secret key is not a public key`)
  const secret = PRIVATE_MEMBERS.filter((member) => member in key)
  if (secret.length > 0) {
    throw new JwksError(`${where} holds private key material (${secret.map((member) => `"${member}"`).join(', ')}): paste the public key only, and treat this private key as exposed`)
  }
  if (typeof kty !== 'string' || !(kty in ALGS_OF_KEY)) throw new JwksError(`${where} has kty ${JSON.stringify(kty)}: it must be EC (P-256), RSA or OKP (Ed25519)`)
  const algs = ALGS_OF_KEY[kty] ?? []
  if (kty === 'EC' && (key.crv !== 'P-256' || typeof key.x !== 'string' || typeof key.y !== 'string')) throw new JwksError(`${where}: an EC key must be on curve P-256 (ES256), with x and y`)
  if (kty === 'OKP' && (key.crv !== 'Ed25519' || typeof key.x !== 'string')) throw new JwksError(`${where}: an OKP key must be Ed25519 (EdDSA), with x`)
  if (kty === 'RSA') {
    if (typeof key.n !== 'string' || typeof key.e !== 'string') throw new JwksError(`${where}: an RSA key needs n and e`)
    // RFC 7518 §3.3, §3.5: RSA keys of 2048 bits or more.
    if (key.n.replace(/=+$/, '').length < base64urlLength(2048)) throw new JwksError(`${where}: an RSA key must have at least 2048 bits (RFC 7518 §3.3)`)
  }
  // RFC 9864 §2.2: "Ed25519" is EdDSA on Ed25519, fully specified (WebCrypto exports it so); kept as EdDSA, the alg assertions name.
  if (kty === 'OKP' && key.alg === 'Ed25519') return checkKey({ ...key, alg: 'EdDSA' }, where)
  if (key.alg !== undefined && !algs.some((alg) => alg === key.alg)) {
    throw new JwksError(`${where} has alg ${JSON.stringify(key.alg)}: an ${kty} key may sign ${algs.join(' or ')} here (leave alg out to allow ${algs.length > 1 ? 'any of them' : 'it'})`)
  }
  if (key.use !== undefined && key.use !== 'sig') throw new JwksError(`${where} has use ${JSON.stringify(key.use)}: a client authentication key is for signing ("sig")`)
  const keyOps: unknown = key.key_ops
  if (keyOps !== undefined && !(Array.isArray(keyOps) && (keyOps as readonly unknown[]).includes('verify'))) throw new JwksError(`${where} has key_ops without "verify"`)
  if (key.kid !== undefined && (typeof key.kid !== 'string' || key.kid === '' || key.kid.length > 200 || /[\u0000-\u001f\u007f]/.test(key.kid))) {
    throw new JwksError(`${where} has a kid that is not 1 to 200 printable characters`)
  }
  return key
}

/**
 * A client's JWK Set, checked member by member (RFC 7517 §4, §5): public EC P-256, RSA (≥ 2048
 * bits) or Ed25519 keys only, each usable for one of ASSERTION_SIGNING_ALGS. Throws JwksError
 * saying which key is wrong and why. Structure only; checkJwksKeys also imports every key.
 */
export function checkPublicJwks(value: unknown): ClientJwks {
  const members: unknown = isObject(value) ? value.keys : undefined
  if (!Array.isArray(members)) throw new JwksError('the JWK Set must be a JSON object with a "keys" array (RFC 7517 §5)')
  const list: readonly unknown[] = members
  if (list.length === 0) throw new JwksError('the JWK Set has no keys')
  if (list.length > MAX_JWKS_KEYS) throw new JwksError(`the JWK Set has ${list.length} keys; at most ${MAX_JWKS_KEYS}`)
  if (JSON.stringify(value).length > MAX_JWKS_BYTES) throw new JwksError(`the JWK Set is larger than ${MAX_JWKS_BYTES / 1024} KiB`)
  const keys = list.map((key, index) => checkKey(key, list.length === 1 ? 'the key' : `key ${index + 1}`))
  const kids = keys.map((key) => key.kid).filter((kid): kid is string => typeof kid === 'string')
  const repeated = kids.find((kid, index) => kids.indexOf(kid) !== index)
  if (repeated !== undefined) throw new JwksError(`the kid ${JSON.stringify(repeated)} names two keys: each key needs its own kid`)
  return { keys }
}

/** As checkPublicJwks, then every key imported with jose, so a key that is not a valid public key (an EC point off its curve…) is refused now. */
export async function checkJwksKeys(value: unknown): Promise<ClientJwks> {
  const jwks = checkPublicJwks(value)
  for (const [index, key] of jwks.keys.entries()) {
    const alg = ALGS_OF_KEY[String(key.kty)]?.[0] ?? 'ES256'
    try {
      await importJWK(key as JWK, alg)
    } catch {
      throw new JwksError(`${jwks.keys.length === 1 ? 'the key' : `key ${index + 1}`} is not a valid ${String(key.kty)} public key`)
    }
  }
  return jwks
}

/** Text pasted by a person or given to `--jwks`: a JWK Set, or one JWK (wrapped into a set). */
export function parseJwksText(text: string): ClientJwks {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new JwksError('the JWKS is not JSON: paste a JWK Set ({"keys":[…]}) or one public JWK ({"kty":…})')
  }
  return checkPublicJwks(isObject(value) && !('keys' in value) && 'kty' in value ? { keys: [value] } : value)
}

/**
 * A `jwks_uri` (RFC 7591 §2): an absolute https URL without credentials or fragment. Plain http
 * only when `allowHttp` (outside production: a JWKS served on a developer's machine or in a test).
 */
export function checkJwksUri(uri: string, options: { allowHttp: boolean }): string {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    throw new JwksError(`jwks_uri ${JSON.stringify(uri)} is not an absolute URL`)
  }
  if (uri.length > 2000 || /[\u0000-\u0020\u007f-\u009f]/.test(uri)) throw new JwksError('jwks_uri must be at most 2000 characters, without spaces or control characters')
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && options.allowHttp)) {
    throw new JwksError(`jwks_uri must be an https URL${options.allowHttp ? ' (or http outside production)' : ' in production'} (got ${url.protocol.replace(/:$/, '')})`)
  }
  if (url.username !== '' || url.password !== '') throw new JwksError('jwks_uri must not carry a username or password')
  if (url.hash !== '' || uri.includes('#')) throw new JwksError('jwks_uri must not have a #fragment')
  return uri
}
