import type { UserStore } from './credentials/user-store.js'
import type { TokenIntrospection } from './types.js'

/** OpenID Connect Core §5.3.2: the claims a UserInfo answer may carry here. */
export interface UserInfoClaims {
  sub: string
  name?: string
  email?: string
}

/** RFC 6750 §3.1 error codes of a protected resource. */
export type UserInfoResult = { ok: true; claims: UserInfoClaims } | { ok: false; error: 'invalid_token' | 'insufficient_scope'; /** RFC 9449 §7.2: a DPoP-bound token presented as Bearer. */ dpopBound?: true }

/**
 * OpenID Connect Core §5.3: the token must be a live access token for a user and carry the
 * `openid` scope; the answer holds `sub` and the claims of the granted scopes (§5.4:
 * `profile` → name, `email` → email), leaving out claims the user has no value for.
 */
export async function userInfo(deps: { users: UserStore }, token: TokenIntrospection): Promise<UserInfoResult> {
  if (!token.active || token.tokenKind !== 'access_token' || token.subject === undefined) return { ok: false, error: 'invalid_token' }
  const scopes = (token.scope ?? '').split(' ')
  if (!scopes.includes('openid')) return { ok: false, error: 'insufficient_scope' }
  const user = await deps.users.getUser(token.subject)
  if (!user || user.disabled) return { ok: false, error: 'invalid_token' }
  const claims: UserInfoClaims = { sub: user.id }
  if (scopes.includes('profile') && user.name !== null) claims.name = user.name
  if (scopes.includes('email') && user.email !== null) claims.email = user.email
  return { ok: true, claims }
}
