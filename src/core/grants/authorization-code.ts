import { verifierMatches } from '../authorization/pkce.js'
import { EMPTY_CATALOG, resolveGrantAudience, type ApiCatalog } from '../audience.js'
import { requestedTarget } from '../resource-indicators.js'
import { dpopGrantBinding, issueSignInTokens, wantsRefreshToken } from './issue-user-tokens.js'
import type { AuthorizationCodeRecord, AuthorizationCodeStore } from '../authorization/authorization-code-store.js'
import type { Clock } from '../clock.js'
import { digestSecret } from '../credentials/secrets.js'
import type { UserStore } from '../credentials/user-store.js'
import { OAuthError } from '../errors.js'
import { endGrants } from '../grant-ending.js'
import type { GrantStore } from '../tokens/token-store.js'
import type { TokenService } from '../tokens/token-service.js'
import type { Client, DialectPolicy, TokenResult, User } from '../types.js'
import { clientOf, type Grant, type GrantContext } from './grant.js'

type Deps = { tokens: TokenService; users: Pick<UserStore, 'getUser'>; grants: Pick<GrantStore, 'endGrants'>; clock: Clock; authorizationCodes?: AuthorizationCodeStore; apis?: ApiCatalog }

const INVALID = (debug: string): OAuthError => new OAuthError('invalid_grant', { description: 'The authorization code is invalid, expired or already used.', debug })

const scopeList = (scope: string): string[] => (scope === '' ? [] : scope.split(' '))

/** RFC 6749 §4.1.2: a code used twice ends whatever its first use started. */
async function rejectReplay(deps: Deps, code: AuthorizationCodeRecord, alsoEnd?: string): Promise<never> {
  for (const grantId of new Set([code.grantId, alsoEnd])) {
    if (grantId) await endGrants(deps, { grantId }, 'code_reused')
  }
  throw INVALID('authorization code used twice; its grant ended')
}

/**
 * RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6): the code must be this client's, unexpired and
 * unused, the redirect_uri the same string, and S256(code_verifier) its challenge. The user must
 * still be enabled and allowed. Answers with the grant's tokens, and an ID token with `openid`.
 */
async function handle(context: GrantContext, deps: Deps): Promise<TokenResult> {
  const client = clientOf(context)
  const codes = deps.authorizationCodes
  if (!codes) throw new OAuthError('unsupported_grant_type', { description: 'The grant type \'authorization_code\' is not supported.' })
  const parameters = context.request.parameters ?? new Map<string, string>()
  const presented = parameters.get('code')
  if (presented === undefined) throw new OAuthError('invalid_request', { description: 'The code parameter is required.' })
  const redirectUri = parameters.get('redirect_uri')
  if (redirectUri === undefined) throw new OAuthError('invalid_request', { description: 'The redirect_uri parameter is required.' })

  const digest = digestSecret(presented)
  const code = await codes.findAuthorizationCode(digest)
  // Another client's code is answered exactly like an unknown one.
  if (!code || code.clientId !== client.id) throw INVALID(code ? 'code of another client' : 'unknown code')
  if (code.usedAt !== null) return rejectReplay(deps, code)
  const now = deps.clock.now()
  if (code.expiresAt <= now) throw INVALID('code expired')
  if (code.redirectUri !== redirectUri) throw INVALID('redirect_uri differs from the authorization request')
  // RFC 7636 §4.6; a missing verifier fails the same way (PKCE is required for every code here).
  if (!verifierMatches(parameters.get('code_verifier') ?? '', code.codeChallenge)) throw INVALID('PKCE verification failed')
  const user = await deps.users.getUser(code.userId)
  if (!user || user.disabled) throw INVALID(user ? 'user disabled' : 'user deleted')
  if (client.allowedUsers !== null && !client.allowedUsers.includes(user.id)) throw INVALID('user not allowed for this client')
  // RFC 9449 §10: a code bound to a key (dpop_jkt) is redeemed only with a proof by that key.
  if (code.dpopJkt !== undefined && context.dpopJkt !== code.dpopJkt) throw INVALID(context.dpopJkt === undefined ? 'code bound to a DPoP key; no proof sent' : 'DPoP key differs from dpop_jkt')

  // RFC 8707 §2.2: the token serves one of the resources of the authorization request (the first by default).
  const { audience, scopes } = resolveGrantAudience({
    client,
    granted: code.resources,
    fallback: client.audience,
    requested: requestedTarget(context.request),
    scopes: scopeList(code.scope),
    registry: deps.apis ?? EMPTY_CATALOG,
    forUser: true,
  })
  const grantScopes = scopeList(code.scope)
  const { grant, refresh } = await deps.tokens.startGrant({
    client,
    subject: user.id,
    subjectType: 'user',
    grantType: 'authorization_code',
    // The grant keeps every scope and resource the user approved; this access token may hold fewer.
    scopes: grantScopes,
    withRefreshToken: wantsRefreshToken(client, grantScopes, context.policy),
    ...(audience !== undefined ? { audience } : {}),
    ...(code.resources !== undefined ? { resources: code.resources } : {}),

    ...dpopGrantBinding(client, context.dpopJkt),
  })
  // The grant exists before the code is marked, so a concurrent second use always finds one to end.
  if ((await codes.consumeAuthorizationCode(digest, now, grant.id)) !== 'consumed') {
    return rejectReplay(deps, (await codes.findAuthorizationCode(digest)) ?? code, grant.id)
  }
  return issueSignInTokens(deps, {
    client,
    user,
    scopes,
    grantedScopes: grantScopes,
    grantId: grant.id,
    refreshToken: refresh?.token,
    audience: audience ?? null,
    dpopJkt: context.dpopJkt,
    signIn: { authTime: code.authTime, nonce: code.nonce, sessionId: code.sessionId },
  })
}

export const authorizationCode = {
  grantType: 'authorization_code',
  parameters: ['code', 'redirect_uri', 'code_verifier', 'resource'],
  requiresClientAuthentication: true,
  handle,
} satisfies Grant
