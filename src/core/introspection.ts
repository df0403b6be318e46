import type { ClientCache } from './client-cache.js'
import type { AccessTokenStore, GrantStore, OpaqueTokenRecord, RefreshTokenStore } from './tokens/token-store.js'
import { toSeconds, type Clock } from './clock.js'
import { digestSecret } from './credentials/secrets.js'
import { checkJwtAccessToken, looksLikeJwt, verifyAccessToken, type JwtRefusal, type VerifiedAccessToken } from './tokens/jwt-access-token.js'
import type { KeyRing } from './tokens/key-ring.js'
import { looksLikeOpaqueToken } from './tokens/opaque-token.js'
import { looksLikeRefreshToken, refreshTokenKey } from './tokens/refresh-token-format.js'
import type { TokenService } from './tokens/token-service.js'
import type { TokenIntrospection } from './types.js'

/** What looking a token up needs: the keys for JWTs, the store for opaque and refresh tokens and grants, the clients. */
export type TokenLookupDeps = {
  keys: KeyRing
  tokens: TokenService
  accessTokens: AccessTokenStore
  refreshTokens: RefreshTokenStore
  grants: Pick<GrantStore, 'getGrant'>
  clients: Pick<ClientCache, 'get'>
  clock: Clock
}

/**
 * An access token stands only while its client does and, when it names a grant, while the
 * grant does; and not if it was issued before the client's not-before instant (a secret
 * rotated with "revoke tokens"). JWTs carry whole seconds (`iat`): one issued in the second
 * of the rotation, before it, still stands.
 */
async function accessTokenStands(deps: TokenLookupDeps, token: { clientId: string; issuedAtMs: number; wholeSeconds: boolean; grantId: string | null | undefined }): Promise<boolean> {
  const client = await deps.clients.get(token.clientId)
  if (!client) return false
  if (client.tokensNotBefore !== null) {
    const notBefore = token.wholeSeconds ? Math.floor(client.tokensNotBefore / 1000) * 1000 : client.tokensNotBefore
    if (token.issuedAtMs < notBefore) return false
  }
  if (token.grantId === undefined || token.grantId === null) return true
  const grant = await deps.grants.getGrant(token.grantId)
  return grant !== undefined && grant.revokedAt === null
}

const INACTIVE: TokenIntrospection = { active: false }

/** RFC 7662 §2.2: anything not currently valid is just `active: false`, with no reason given. */
export async function introspectToken(deps: TokenLookupDeps, token: string): Promise<TokenIntrospection> {
  const now = deps.clock.now()
  if (looksLikeJwt(token)) {
    const claims = await verifyAccessToken(deps.keys, token, { issuer: deps.tokens.issuer, now })
    if (!claims || (await deps.accessTokens.isJwtRevoked(claims.jti))) return INACTIVE
    if (!(await jwtStands(deps, claims))) return INACTIVE
    return fromClaims(claims)
  }
  if (looksLikeOpaqueToken(token)) {
    const record = await deps.accessTokens.findOpaqueToken(digestSecret(token))
    if (!record || record.revokedAt !== null || record.grantEnded || record.expiresAt <= now) return INACTIVE
    if (!(await opaqueTokenStands(deps, record))) return INACTIVE
    return fromOpaqueRecord(record, deps.tokens.issuer)
  }
  if (looksLikeRefreshToken(token)) {
    const record = await deps.refreshTokens.findRefreshToken(refreshTokenKey(token))
    if (!record || record.usedAt !== null || record.grant.revokedAt !== null) return INACTIVE
    if (record.expiresAt <= now || record.grant.expiresAt <= now) return INACTIVE
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

const jwtStands = (deps: TokenLookupDeps, claims: VerifiedAccessToken): Promise<boolean> =>
  accessTokenStands(deps, { clientId: claims.client_id, issuedAtMs: claims.iat * 1000, wholeSeconds: true, grantId: claims.gid })

/** The grant of an opaque token is joined in its record (`grantEnded`); the client is checked here. */
const opaqueTokenStands = (deps: TokenLookupDeps, record: OpaqueTokenRecord & { grantEnded: boolean }): Promise<boolean> =>
  record.grantEnded ? Promise.resolve(false) : accessTokenStands(deps, { clientId: record.clientId, issuedAtMs: record.issuedAt, wholeSeconds: false, grantId: null })

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
    ...(claims.cnf !== undefined && typeof claims.cnf.jkt === 'string' ? { jkt: claims.cnf.jkt } : {}),
    ...(claims.act !== undefined ? { act: claims.act } : {}),
    ...(claims.gid !== undefined ? { grantId: claims.gid } : {}),
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
    ...(record.dpopJkt !== undefined ? { jkt: record.dpopJkt } : {}),
    ...(record.act !== undefined ? { act: record.act } : {}),
    ...(record.grantId !== null ? { grantId: record.grantId } : {}),
  }
}

/** Why an access token is refused, for Gatehouse's own protected routes; never for /oauth/introspect. */
export type AccessTokenRefusal = JwtRefusal | { reason: 'unknown' } | { reason: 'revoked' }

/**
 * The checks of introspectToken for an access token, keeping the reason of a refusal. RFC
 * 7662 §2.2 answers only `active: false` to a client; the management API may tell its own
 * caller why (a wrong issuer, an expired or revoked token), which is what an operator needs.
 * A token whose grant ended, or whose client is gone, is `revoked`.
 */
export async function checkAccessToken(deps: TokenLookupDeps, token: string): Promise<{ ok: true; token: TokenIntrospection } | ({ ok: false } & AccessTokenRefusal)> {
  const now = deps.clock.now()
  if (looksLikeJwt(token)) {
    const checked = await checkJwtAccessToken(deps.keys, token, { issuer: deps.tokens.issuer, now })
    if (!checked.ok) return checked
    if ((await deps.accessTokens.isJwtRevoked(checked.claims.jti)) || !(await jwtStands(deps, checked.claims))) return { ok: false, reason: 'revoked' }
    return { ok: true, token: fromClaims(checked.claims) }
  }
  if (looksLikeOpaqueToken(token)) {
    const record = await deps.accessTokens.findOpaqueToken(digestSecret(token))
    if (!record) return { ok: false, reason: 'unknown' }
    if (record.revokedAt !== null || !(await opaqueTokenStands(deps, record))) return { ok: false, reason: 'revoked' }
    if (record.expiresAt <= now) return { ok: false, reason: 'expired', expiredAt: toSeconds(record.expiresAt) }
    return { ok: true, token: fromOpaqueRecord(record, deps.tokens.issuer) }
  }
  if (looksLikeRefreshToken(token)) return { ok: false, reason: 'not_access_token' }
  return { ok: false, reason: 'unknown' }
}
