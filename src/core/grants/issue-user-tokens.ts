import { accessTokenType } from './grant.js'
import type { TokenService } from '../tokens/token-service.js'
import type { Client, DialectPolicy, TokenResult, User } from '../types.js'

/**
 * RFC 9449 §5: a public client's refresh tokens are bound to the key of the proof that started
 * the grant; a confidential client's are bound to its authentication already, so not to a key.
 */
export function dpopGrantBinding(client: Client, jkt: string | undefined): { dpopJkt?: string } {
  return jkt !== undefined && client.tokenEndpointAuthMethod === 'none' ? { dpopJkt: jkt } : {}
}

/**
 * Starts a user's grant and issues its access token, and a refresh token when the dialect's
 * rule allows one (password grant). Every token belongs to the grant, so ending the grant
 * (the user disabled, the refresh token revoked, …) ends them all.
 */
export async function issueUserTokens(
  deps: { tokens: TokenService },
  input: { client: Client; subject: string; scopes: string[]; policy: DialectPolicy; grantType: string; audience?: string | undefined; dpopJkt?: string | undefined },
): Promise<TokenResult> {
  const { client, subject, scopes, policy, audience } = input
  const withRefreshToken = wantsRefreshToken(client, scopes, policy)
  const { grant, refresh } = await deps.tokens.startGrant({ client, subject, subjectType: 'user', grantType: input.grantType, scopes, withRefreshToken, ...(audience !== undefined ? { audience, resources: [audience] } : {}), ...dpopGrantBinding(client, input.dpopJkt) })
  const access = await deps.tokens.issueAccessToken({ client, subject, scopes, grantId: grant.id, ...(audience !== undefined ? { audience } : {}), ...(input.dpopJkt !== undefined ? { dpopJkt: input.dpopJkt } : {}) })
  return {
    accessToken: access.token,
    tokenType: accessTokenType(input.dpopJkt),
    expiresIn: access.expiresIn,
    ...(refresh ? { refreshToken: refresh.token } : {}),
    scope: scopes.join(' '),
    clientId: client.id,
    subject,
  }
}

/**
 * The answer of a grant a person signed in for (authorization code, device): the access token
 * of the grant just started, and with `openid` an ID token about that sign-in (OpenID Connect
 * Core §3.1.3.3, `at_hash` of this access token). One place, so both grants answer alike.
 */
export async function issueSignInTokens(
  deps: { tokens: TokenService },
  input: {
    client: Client
    user: User
    scopes: string[]
    /** What the user granted, when the access token holds fewer (one resource's scopes): the ID token's claims follow the grant. */
    grantedScopes?: string[]
    grantId: string
    refreshToken: string | undefined
    audience: string | null
    dpopJkt: string | undefined
    signIn: { authTime: number; nonce: string | null; sessionId: string | null }
  },
): Promise<TokenResult> {
  const { client, user, scopes, dpopJkt } = input
  const access = await deps.tokens.issueAccessToken({ client, subject: user.id, scopes, grantId: input.grantId, ...(input.audience !== null ? { audience: input.audience } : {}), ...(dpopJkt !== undefined ? { dpopJkt } : {}) })
  const granted = input.grantedScopes ?? scopes
  const idToken = granted.includes('openid')
    ? deps.tokens.issueIdToken({
        client,
        subject: user.id,
        authTime: input.signIn.authTime,
        nonce: input.signIn.nonce,
        ...(input.signIn.sessionId !== null ? { sessionId: input.signIn.sessionId } : {}),
        accessToken: access.token,
        claims: profileClaims(user, granted),
      })
    : undefined
  return {
    accessToken: access.token,
    tokenType: accessTokenType(dpopJkt),
    expiresIn: access.expiresIn,
    ...(input.refreshToken !== undefined ? { refreshToken: input.refreshToken } : {}),
    ...(idToken !== undefined ? { idToken } : {}),
    scope: scopes.join(' '),
    clientId: client.id,
    subject: user.id,
  }
}

/** The dialect's refresh rule: the client holds the refresh_token grant, or (OpenID Connect) `offline_access` was granted. */
export function wantsRefreshToken(client: Client, scopes: readonly string[], policy: DialectPolicy): boolean {
  return policy.refreshTokenRule === 'offline_access' ? scopes.includes('offline_access') : client.grantTypes.includes('refresh_token')
}

/** OpenID Connect Core §5.4: `profile` → name, `email` → email, when the user has them. */
export function profileClaims(user: User, scopes: readonly string[]): { name?: string; email?: string } {
  return {
    ...(scopes.includes('profile') && user.name !== null ? { name: user.name } : {}),
    ...(scopes.includes('email') && user.email !== null ? { email: user.email } : {}),
  }
}
