import type { UserStore } from '../credentials/user-store.js'
import type { Clock } from '../clock.js'
import { OAuthError } from '../errors.js'
import { endGrants } from '../grant-ending.js'
import { refreshTokenKey } from '../tokens/refresh-token-format.js'
import { narrowScopes } from '../scope.js'
import { EMPTY_CATALOG, resolveGrantAudience, type ApiCatalog } from '../audience.js'
import { requestedTarget } from '../resource-indicators.js'
import type { GrantStore, RefreshTokenStore, RefreshTokenWithGrant } from '../tokens/token-store.js'
import type { TokenService } from '../tokens/token-service.js'
import type { Client, GrantType, TokenResult } from '../types.js'
import { accessTokenType, clientOf, type Grant, type GrantContext } from './grant.js'

type Deps = { tokens: TokenService; refreshTokens: RefreshTokenStore; grants: Pick<GrantStore, 'endGrants'>; users: Pick<UserStore, 'getUser'>; clock: Clock; apis?: ApiCatalog }

const INVALID = (debug: string): OAuthError =>
  new OAuthError('invalid_grant', { description: 'The refresh token is invalid, expired or revoked.', debug })

const scopeList = (scope: string): string[] => (scope === '' ? [] : scope.split(' '))

/** RFC 6749 §6: the token must exist, be bound to this client, and be live. */
async function findUsableToken(deps: Deps, client: Client, presented: string): Promise<RefreshTokenWithGrant> {
  const token = await deps.refreshTokens.findRefreshToken(refreshTokenKey(presented))
  if (!token) throw INVALID('unknown refresh token')
  // Another client's token is answered exactly like an unknown one.
  if (token.clientId !== client.id) throw INVALID('refresh token of another client')
  const now = deps.clock.now()
  if (token.grant.revokedAt !== null) throw INVALID(`grant ended (${token.grant.revokedReason ?? 'revoked'})`)
  if (token.expiresAt <= now || token.grant.expiresAt <= now) throw INVALID('refresh token expired')
  return token
}

/**
 * A refresh re-checks what the grant stood on: the user still exists, is enabled and may still
 * log in through the client (allowedUsers), and the client still allows the grant type that
 * created it. Refused, not ended: an operator who
 * re-enables the client's grant type gets the grant back (disabling a user ends it anyway).
 */
async function checkGrantStillHolds(deps: Deps, client: Client, token: RefreshTokenWithGrant): Promise<void> {
  const { grant } = token
  if (grant.subjectType === 'user') {
    // The store may have read the user with the token (one round trip less); else read it now.
    const user = token.user !== undefined ? token.user : await deps.users.getUser(grant.subject)
    if (!user || user.disabled) throw INVALID(user ? 'user disabled' : 'user deleted')
    // The client may since have been limited to some users (allowedUsers): a refresh is a login too.
    if (client.allowedUsers !== null && !client.allowedUsers.includes(grant.subject)) throw INVALID('user no longer allowed for this client')
  }
  if (!client.grantTypes.includes(grant.grantType as GrantType)) throw INVALID(`client no longer allows the ${grant.grantType} grant`)
}

/**
 * RFC 6749 §6: the access token's scope is the grant's, narrowed for this one token when the
 * request names a scope (never widened), and cut to the scopes the client still holds. The
 * refresh token keeps the grant's scope unchanged.
 */
function accessTokenScopes(requested: string | undefined, token: RefreshTokenWithGrant, client: Client): string[] {
  return narrowScopes(requested, scopeList(token.scope)).filter((scope) => client.scopes.includes(scope))
}

/**
 * RFC 9449 §5: a refresh token bound to a key (a public client's grant started with a DPoP
 * proof) is usable only with a proof by that key. Without any proof the proof is what is
 * missing (`invalid_dpop_proof`); with another key's, the token is not the caller's (`invalid_grant`).
 */
function checkKeyBinding(token: RefreshTokenWithGrant, jkt: string | undefined): void {
  const bound = token.grant.dpopJkt
  if (bound === undefined) return
  if (jkt === undefined) throw new OAuthError('invalid_dpop_proof', { description: 'This refresh token is bound to a DPoP key: send a DPoP proof signed with it.' })
  if (jkt !== bound) throw INVALID('refresh token bound to another DPoP key')
}

/** A retry inside the client's reuse interval is a lost response, not an attack. */
function withinReuseInterval(client: Client, usedAt: number, now: number): boolean {
  return client.refreshTokenReuseInterval > 0 && now - usedAt <= client.refreshTokenReuseInterval * 1000
}

/** RFC 9700 §4.14.2: a rotated token presented again ends its grant, and so every token of it. */
async function rejectReuse(deps: Deps, token: RefreshTokenWithGrant): Promise<never> {
  await endGrants(deps, { grantId: token.familyId }, 'reuse_detected')
  throw INVALID('refresh token reuse detected; grant ended')
}

async function handle(context: GrantContext, deps: Deps): Promise<TokenResult> {
  const client = clientOf(context)
  const presented = context.request.refreshToken
  if (presented === undefined || presented === '') {
    throw new OAuthError('invalid_request', { description: 'The refresh_token parameter is required.' })
  }
  return exchangeRefreshToken(deps, client, presented, { scope: context.request.scope, resource: requestedTarget(context.request), dpopJkt: context.dpopJkt })
}

/**
 * Rotation (RFC 9700 §4.14.2): the presented token is used up and its successor stored, in
 * one compare-and-set. A token already used is reuse, unless it comes back inside the reuse
 * interval: then it is a retry of a lost response and gets the same successor the first
 * exchange stored, as long as that successor is itself unused.
 */
async function rotate(deps: Deps, client: Client, presented: string, token: RefreshTokenWithGrant): Promise<string> {
  const now = deps.clock.now()
  const successorAt = (usedAt: number) =>
    deps.tokens.successorOf(presented, { client, familyId: token.familyId, familyExpiresAt: token.grant.expiresAt, subject: token.subject, scope: token.scope, audience: token.audience, usedAt })
  let usedAt = token.usedAt
  if (usedAt === null) {
    const successor = successorAt(now)
    if ((await deps.refreshTokens.rotateRefreshToken(token.digest, now, successor.record)) === 'consumed') return successor.token
    // A concurrent request won the race just now.
    usedAt = (await deps.refreshTokens.findRefreshToken(token.digest))?.usedAt ?? null
  }
  if (usedAt === null || !withinReuseInterval(client, usedAt, now)) return rejectReuse(deps, token)
  const successor = successorAt(usedAt)
  const stored = await deps.refreshTokens.findRefreshToken(successor.record.digest)
  if (!stored || stored.usedAt !== null) return rejectReuse(deps, token)
  return successor.token
}

/**
 * RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14.2): checks the presented
 * token and its grant for `client`, issues its successor and a new access token. Shared with
 * the api_key grant, whose refresh tokens stand for the key's client.
 */
export async function exchangeRefreshToken(
  deps: Deps,
  client: Client,
  presented: string,
  requested: { scope: string | undefined; resource?: string | undefined; dpopJkt?: string | undefined },
): Promise<TokenResult> {
  const { dpopJkt } = requested
  const token = await findUsableToken(deps, client, presented)
  await checkGrantStillHolds(deps, client, token)
  checkKeyBinding(token, dpopJkt)
  // RFC 8707 §2.2: one of the grant's resources (the first by default), never a new one.
  const { audience, scopes } = resolveGrantAudience({
    client,
    granted: token.grant.resources,
    fallback: token.audience,
    requested: requested.resource,
    scopes: accessTokenScopes(requested.scope, token, client),
    registry: deps.apis ?? EMPTY_CATALOG,
    forUser: token.grant.subjectType === 'user',
  })

  let refreshToken: string
  if (!client.rotateRefreshTokens) {
    // Reuse mode: the same token stays valid; its sliding lifetime starts again.
    if (token.usedAt !== null) await rejectReuse(deps, token)
    await deps.refreshTokens.touchRefreshToken(token.digest, Math.min(token.grant.expiresAt, deps.clock.now() + client.refreshTokenSlidingTtl * 1000))
    refreshToken = presented
  } else {
    refreshToken = await rotate(deps, client, presented, token)
  }

  // A refresh keeps the audience its grant got (RFC 8707 §2 audience, or the client's at the time).
  const access = await deps.tokens.issueAccessToken({ client, subject: token.subject, scopes, grantId: token.familyId, ...(audience !== undefined ? { audience } : {}), ...(dpopJkt !== undefined ? { dpopJkt } : {}) })
  return {
    accessToken: access.token,
    tokenType: accessTokenType(dpopJkt),
    expiresIn: access.expiresIn,
    refreshToken,
    scope: scopes.join(' '),
    clientId: client.id,
    subject: token.subject,
  }
}

export const refreshToken = {
  grantType: 'refresh_token',
  parameters: ['refresh_token', 'scope', 'resource', 'audience'],
  requiresClientAuthentication: true,
  handle,
} satisfies Grant
