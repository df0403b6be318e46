import type { RefreshTokenStore, RefreshTokenWithFamily } from '../tokens/token-store.js'
import type { Clock } from '../clock.js'
import { OAuthError } from '../errors.js'
import { refreshTokenKey } from '../tokens/refresh-token-format.js'
import { narrowScopes } from '../scope.js'
import type { TokenService } from '../tokens/token-service.js'
import type { Client, TokenResult } from '../types.js'
import { clientOf, type Grant, type GrantContext } from './grant.js'

type Deps = { tokens: TokenService; refreshTokens: RefreshTokenStore; clock: Clock }

const INVALID = (debug: string): OAuthError =>
  new OAuthError('invalid_grant', { description: 'The refresh token is invalid, expired or revoked.', debug })

/** RFC 6749 §6: the token must exist, be bound to this client, and be live. */
async function findUsableToken(deps: Deps, client: Client, presented: string): Promise<RefreshTokenWithFamily> {
  const token = await deps.refreshTokens.findRefreshToken(refreshTokenKey(presented))
  if (!token) throw INVALID('unknown refresh token')
  // Another client's token is answered exactly like an unknown one.
  if (token.clientId !== client.id) throw INVALID('refresh token of another client')
  const now = deps.clock.now()
  if (token.family.revokedAt !== null) throw INVALID('refresh family revoked')
  if (token.expiresAt <= now || token.family.expiresAt <= now) throw INVALID('refresh token expired')
  return token
}

/** A retry inside the client's reuse interval is a lost response, not an attack. */
function withinReuseInterval(client: Client, usedAt: number, now: number): boolean {
  return client.refreshTokenReuseInterval > 0 && now - usedAt <= client.refreshTokenReuseInterval * 1000
}

/** RFC 9700 §4.14.2: a rotated token presented again revokes its whole family. */
async function rejectReuse(deps: Deps, token: RefreshTokenWithFamily): Promise<never> {
  await deps.refreshTokens.revokeRefreshFamily(token.familyId, deps.clock.now())
  throw INVALID('refresh token reuse detected; family revoked')
}

async function handle(context: GrantContext, deps: Deps): Promise<TokenResult> {
  const client = clientOf(context)
  const presented = context.request.refreshToken
  if (presented === undefined || presented === '') {
    throw new OAuthError('invalid_request', { description: 'The refresh_token parameter is required.' })
  }
  return exchangeRefreshToken(deps, client, presented, context.request.scope)
}

/**
 * RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14.2): checks the presented
 * token for `client`, issues its successor and a new access token. Shared with the api_key
 * grant, whose refresh tokens stand for the key's client.
 */
export async function exchangeRefreshToken(deps: Deps, client: Client, presented: string, requestedScope: string | undefined): Promise<TokenResult> {
  const token = await findUsableToken(deps, client, presented)
  const scopes = narrowScopes(requestedScope, token.scope === '' ? [] : token.scope.split(' '))
  const now = deps.clock.now()

  let refreshToken: string
  if (!client.rotateRefreshTokens) {
    // Reuse mode: the same token stays valid; its sliding lifetime starts again.
    if (token.usedAt !== null) await rejectReuse(deps, token)
    await deps.refreshTokens.touchRefreshToken(token.digest, Math.min(token.family.expiresAt, now + client.refreshTokenSlidingTtl * 1000))
    refreshToken = presented
  } else {
    const successor = deps.tokens.newRefreshToken({
      client,
      familyId: token.familyId,
      familyExpiresAt: token.family.expiresAt,
      subject: token.subject,
      scopes,
      audience: token.audience,
    })
    const rotated = token.usedAt === null && (await deps.refreshTokens.rotateRefreshToken(token.digest, now, successor.record)) === 'consumed'
    if (!rotated) {
      // Used already: by an earlier request, or by a concurrent one that won the race just now.
      const usedAt = token.usedAt ?? (await deps.refreshTokens.findRefreshToken(token.digest))?.usedAt ?? null
      if (usedAt === null || !withinReuseInterval(client, usedAt, now)) await rejectReuse(deps, token)
      await deps.refreshTokens.insertRefreshToken(successor.record)
    }
    refreshToken = successor.token
  }

  // A refresh keeps the audience its grant got (RFC 8707 §2 audience, or the client's at the time).
  const access = await deps.tokens.issueAccessToken({ client, subject: token.subject, scopes, familyId: token.familyId, ...(token.audience !== null ? { audience: token.audience } : {}) })
  return {
    accessToken: access.token,
    tokenType: 'Bearer',
    expiresIn: access.expiresIn,
    refreshToken,
    scope: scopes.join(' '),
    clientId: client.id,
    subject: token.subject,
  }
}

export const refreshToken = {
  grantType: 'refresh_token',
  parameters: ['refreshToken', 'scope'],
  requiresClientAuthentication: true,
  handle,
} satisfies Grant
