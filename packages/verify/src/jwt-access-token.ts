import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions, type JWTVerifyGetKey } from 'jose'
import { BearerTokenError } from './bearer.js'

export interface JwtCheckOptions {
  issuer: string
  audience: string | string[]
  jwksUri: string
  clockToleranceSeconds: number
  jwksCooldownMs: number
  jwksCacheMaxAgeMs: number
  fetch: typeof globalThis.fetch | undefined
  now: (() => number) | undefined
}

/** RFC 9068 §2.2: the claims every Gatehouse access token carries. */
const REQUIRED_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti']

/**
 * The algorithms Gatehouse signs with: ES256, and RS256, which RFC 9068 §2.1 says every resource
 * server MUST support. Asymmetric only, so `alg: none` and HMAC confusion (an HS256 token keyed
 * with a public key, RFC 8725 §2.1) never get a key; jose also checks each JWK's type against the
 * header's `alg`.
 */
const ALGORITHMS = ['ES256', 'RS256']

/**
 * RFC 9068 §4 validation of a JWT access token: `typ` at+jwt, ES256 or RS256 only, a key
 * from the issuer's JWKS, issuer, audience, exp/nbf/iat within the tolerance. Keys are cached by jose's remote JWK set, which fetches again on an
 * unknown `kid` at most once per cooldown.
 */
export function createJwtCheck(options: JwtCheckOptions): (token: string) => Promise<JWTPayload> {
  const keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(options.jwksUri), {
    cooldownDuration: options.jwksCooldownMs,
    cacheMaxAge: options.jwksCacheMaxAgeMs,
    ...(options.fetch ? { [customFetch]: options.fetch } : {}),
  })
  const verifyOptions: JWTVerifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    typ: 'at+jwt',
    algorithms: ALGORITHMS,
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: REQUIRED_CLAIMS,
  }
  const now = options.now
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keys, now ? { ...verifyOptions, currentDate: new Date(now()) } : verifyOptions)
      return payload
    } catch (error) {
      throw toBearerError(error)
    }
  }
}

/** Maps jose's verdicts to RFC 6750 invalid_token; anything else (JWKS unreachable) is not the token's fault. */
function toBearerError(error: unknown): unknown {
  if (error instanceof errors.JWTExpired) return new BearerTokenError('invalid_token', 'expired', 'The access token expired', { cause: error })
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' || error.claim === 'iat') return new BearerTokenError('invalid_token', 'not_yet_valid', 'The access token is not valid yet', { cause: error })
    const reason = error.claim === 'iss' ? 'issuer' : error.claim === 'aud' ? 'audience' : error.claim === 'typ' ? 'typ' : 'claims'
    return invalid(reason, error)
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return invalid('algorithm', error)
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return invalid('unknown_key', error)
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid('signature', error)
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return invalid('malformed', error)
  return error
}

function invalid(reason: 'issuer' | 'audience' | 'typ' | 'claims' | 'algorithm' | 'unknown_key' | 'signature' | 'malformed', cause: unknown): BearerTokenError {
  return new BearerTokenError('invalid_token', reason, 'The access token is invalid', { cause })
}
