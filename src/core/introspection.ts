import type { AccessTokenStore, OpaqueTokenRecord, RefreshTokenStore } from './tokens/token-store.js'
import { toSeconds, type Clock } from './clock.js'
import { digestSecret } from './credentials/secrets.js'
import { checkJwtAccessToken, looksLikeJwt, verifyAccessToken, type JwtRefusal, type VerifiedAccessToken } from './tokens/jwt-access-token.js'
import type { KeyRing } from './tokens/key-ring.js'
import { looksLikeOpaqueToken } from './tokens/opaque-token.js'
import { looksLikeRefreshToken, refreshTokenKey } from './tokens/refresh-token-format.js'
import type { TokenService } from './tokens/token-service.js'
import type { TokenIntrospection } from './types.js'

/** What looking a token up needs: the keys for JWTs, the store for opaque and refresh tokens. */
export type TokenLookupDeps = {
  keys: KeyRing
  tokens: TokenService
  accessTokens: AccessTokenStore
  refreshTokens: RefreshTokenStore
  clock: Clock
}

const INACTIVE: TokenIntrospection = { active: false }

/** RFC 7662 §2.2: anything not currently valid is just `active: false`, with no reason given. */
export async function introspectToken(deps: TokenLookupDeps, token: string): Promise<TokenIntrospection> {
  const now = deps.clock.now()
  if (looksLikeJwt(token)) {
    const claims = await verifyAccessToken(deps.keys, token, { issuer: deps.tokens.issuer, now })
    if (!claims || (await deps.accessTokens.isJwtRevoked(claims.jti))) return INACTIVE
    return fromClaims(claims)
  }
  if (looksLikeOpaqueToken(token)) {
    const record = await deps.accessTokens.findOpaqueToken(digestSecret(token))
    if (!record || record.revokedAt !== null || record.familyRevokedAt !== null || record.expiresAt <= now) return INACTIVE
    return fromOpaqueRecord(record, deps.tokens.issuer)
  }
  if (looksLikeRefreshToken(token)) {
    const record = await deps.refreshTokens.findRefreshToken(refreshTokenKey(token))
    if (!record || record.usedAt !== null || record.family.revokedAt !== null) return INACTIVE
    if (record.expiresAt <= now || record.family.expiresAt <= now) return INACTIVE
    return {
      active: true,
      tokenKind: 'refresh_token',
      scope: record.scope,
      clientId: record.clientId,
      subject: record.subject,
      issuer: deps.tokens.issuer,
      expiresAt: toSeconds(record.expiresAt),
      issuedAt: toSeconds(record.issuedAt),
    }
  }
  return INACTIVE
}

function fromClaims(claims: VerifiedAccessToken): TokenIntrospection {
  return {
    active: true,
    tokenKind: 'access_token',
    scope: claims.scope,
    clientId: claims.client_id,
    subject: claims.sub,
    audience: claims.aud,
    issuer: claims.iss,
    expiresAt: claims.exp,
    issuedAt: claims.iat,
    jti: claims.jti,
  }
}

function fromOpaqueRecord(record: OpaqueTokenRecord, issuer: string): TokenIntrospection {
  return {
    active: true,
    tokenKind: 'access_token',
    scope: record.scope,
    clientId: record.clientId,
    subject: record.subject,
    audience: record.audience,
    issuer,
    expiresAt: toSeconds(record.expiresAt),
    issuedAt: toSeconds(record.issuedAt),
  }
}

/** Why an access token is refused, for Gatehouse's own protected routes; never for /oauth/introspect. */
export type AccessTokenRefusal = JwtRefusal | { reason: 'unknown' } | { reason: 'revoked' }

/**
 * The checks of introspectToken for an access token, keeping the reason of a refusal. RFC
 * 7662 §2.2 answers only `active: false` to a client; the management API may tell its own
 * caller why (a wrong issuer, an expired or revoked token), which is what an operator needs.
 */
export async function checkAccessToken(deps: TokenLookupDeps, token: string): Promise<{ ok: true; token: TokenIntrospection } | ({ ok: false } & AccessTokenRefusal)> {
  const now = deps.clock.now()
  if (looksLikeJwt(token)) {
    const checked = await checkJwtAccessToken(deps.keys, token, { issuer: deps.tokens.issuer, now })
    if (!checked.ok) return checked
    if (await deps.accessTokens.isJwtRevoked(checked.claims.jti)) return { ok: false, reason: 'revoked' }
    return { ok: true, token: fromClaims(checked.claims) }
  }
  if (looksLikeOpaqueToken(token)) {
    const record = await deps.accessTokens.findOpaqueToken(digestSecret(token))
    if (!record) return { ok: false, reason: 'unknown' }
    if (record.revokedAt !== null || record.familyRevokedAt !== null) return { ok: false, reason: 'revoked' }
    if (record.expiresAt <= now) return { ok: false, reason: 'expired', expiredAt: toSeconds(record.expiresAt) }
    return { ok: true, token: fromOpaqueRecord(record, deps.tokens.issuer) }
  }
  if (looksLikeRefreshToken(token)) return { ok: false, reason: 'not_access_token' }
  return { ok: false, reason: 'unknown' }
}
