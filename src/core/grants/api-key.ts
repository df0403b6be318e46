import type { ApiKeyStore } from '../credentials/api-key-store.js'
import type { GrantStore, GrantSubjectType, RefreshTokenStore } from '../tokens/token-store.js'
import type { UserStore } from '../credentials/user-store.js'
import type { AbuseGuard } from '../abuse/abuse-guard.js'
import type { ClientCache } from '../client-cache.js'
import type { Clock } from '../clock.js'
import { parseApiKey } from '../credentials/api-key.js'
import { secretMatchesDigest, UNKNOWN_SECRET_DIGEST } from '../credentials/secrets.js'
import { OAuthError } from '../errors.js'
import { refreshTokenKey } from '../tokens/refresh-token-format.js'
import { narrowScopes } from '../scope.js'
import type { TokenService } from '../tokens/token-service.js'
import type { ApiKey, Client, EngineObserver, TokenResult } from '../types.js'
import type { Grant, GrantContext } from './grant.js'
import { checkUserAllowed, checkUserCredentials } from './password.js'
import { exchangeRefreshToken } from './refresh-token.js'

/** What the api_key grant needs (also the token exchange of an API key, RFC 8693). */
export type ApiKeyGrantDeps = Deps

type Deps = {
  tokens: TokenService
  apiKeys: ApiKeyStore
  clients: ClientCache
  users: UserStore
  refreshTokens: RefreshTokenStore
  grants: GrantStore
  clock: Clock
  observer?: EngineObserver
  guard?: AbuseGuard
}

/** Audit: a failed key (by its id, never the secret) or a failed user login through a key. */
function reportFailure(deps: Deps, thrown: unknown, kind: 'api_key' | 'user', id: string, ip: string | undefined, clientId?: string): void {
  // A throttled failure (429) carries the failure itself as its cause.
  const error = thrown instanceof OAuthError && thrown.code === 'rate_limited' && thrown.cause instanceof OAuthError ? thrown.cause : thrown
  if (!(error instanceof OAuthError) || (error.code !== 'invalid_client' && error.code !== 'invalid_grant')) return
  deps.observer?.authenticationFailed?.({
    kind,
    id,
    reason: error.debug ?? error.code,
    ...(clientId !== undefined ? { clientId } : {}),
    ...(ip !== undefined ? { ip } : {}),
  })
}

const INVALID_KEY = (debug: string): OAuthError =>
  new OAuthError('invalid_client', { description: 'The API key is invalid, revoked or expired.', debug })

const INVALID_REFRESH = (debug: string): OAuthError =>
  new OAuthError('invalid_grant', { description: 'The refresh token is invalid, expired or revoked.', debug })

function isLive(key: ApiKey, now: number): boolean {
  return key.revokedAt === null && (key.expiresAt === null || key.expiresAt > now)
}

/**
 * The key's owner client, as its tokens see it: the key's audience (if it names one) wins
 * over the client's. The client must still allow the api_key grant (RFC 6749 §5.2
 * unauthorized_client), so an operator can switch a client's keys off in one place.
 */
async function ownerClient(deps: Deps, key: ApiKey, fail: (debug: string) => OAuthError): Promise<Client> {
  const client = await deps.clients.get(key.clientId)
  if (!client) throw fail('owner client of the API key is gone')
  if (!client.grantTypes.includes('api_key')) {
    throw new OAuthError('unauthorized_client', { description: 'This client may not use the api_key grant.' })
  }
  return key.audience === null ? client : { ...client, audience: key.audience }
}

/**
 * Unknown key id and wrong secret take the same path (a digest comparison against a dummy)
 * and the same answer; a revoked or expired key answers alike too.
 */
async function authenticateApiKey(deps: Deps, presented: string): Promise<ApiKey> {
  const parsed = parseApiKey(presented)
  if (!parsed) throw new OAuthError('invalid_request', { description: 'The API key is malformed: expected KEYID:SECRET.' })
  const key = await deps.apiKeys.getApiKey(parsed.id)
  const matches = secretMatchesDigest(parsed.secret, key?.secretDigest ?? UNKNOWN_SECRET_DIGEST)
  if (!key || !matches) {
    // Only failures spend the key id's failure budget; the key's owner keeps working.
    const failure = INVALID_KEY(key ? `wrong secret for API key ${parsed.id}` : `unknown API key ${parsed.id}`)
    throw (await deps.guard?.credentialFailed('api_key', parsed.id, failure)) ?? failure
  }
  if (!isLive(key, deps.clock.now())) throw INVALID_KEY(`API key ${key.id} is ${key.revokedAt === null ? 'expired' : 'revoked'}`)
  await deps.guard?.admitApiKey(key.id)
  return key
}

/** The key's scopes (those its client still has), narrowed by a requested scope (RFC 6749 §3.3). */
function keyScopes(key: ApiKey, client: Client, requested: string | undefined): string[] {
  const available = key.scopes.filter((scope) => client.scopes.includes(scope))
  return narrowScopes(requested, available)
}

/**
 * Exchanges a key for an access token and the refresh token Canary's clients expect. Key
 * mode: the client acts for itself. User mode (username + password): a user logs in with
 * the key's authority, so no client secret is needed.
 */
export async function exchangeApiKey(context: GrantContext, deps: Deps, presented: string): Promise<TokenResult> {
  const { request } = context
  const ip = request.origin?.ip
  const key = await authenticateApiKey(deps, presented).catch((error: unknown) => {
    reportFailure(deps, error, 'api_key', parseApiKey(presented)?.id ?? '', ip)
    throw error
  })
  const client = await ownerClient(deps, key, INVALID_KEY)
  const scopes = keyScopes(key, client, request.scope)
  let subject = client.id
  let subjectType: GrantSubjectType = 'client'
  if (request.username !== undefined || request.password !== undefined) {
    if (!request.username || request.password === undefined) {
      throw new OAuthError('invalid_request', { description: 'A user login needs both username and password.' })
    }
    const username = request.username
    subject = (
      await checkUserCredentials(deps.users, username, request.password, deps.guard, ip)
        .then((user) => {
          checkUserAllowed(client, user)
          return user
        })
        .catch((error: unknown) => {
          reportFailure(deps, error, 'user', username.trim().toLowerCase(), ip, client.id)
          throw error
        })
    ).id
    subjectType = 'user'
  }
  const { grant, refresh } = await deps.tokens.startGrant({ client, subject, subjectType, grantType: 'api_key', scopes, apiKeyId: key.id, withRefreshToken: true })
  if (!refresh) throw new Error('an API key grant always has a refresh token')
  const access = await deps.tokens.issueAccessToken({ client, subject, scopes, grantId: grant.id })
  return {
    accessToken: access.token,
    tokenType: 'Bearer',
    expiresIn: access.expiresIn,
    refreshToken: refresh.token,
    scope: scopes.join(' '),
    clientId: client.id,
    subject,
  }
}

/**
 * Refreshes a family an API key started, without client credentials: only such families may
 * be refreshed this way, and only while their key is live. Rotation and reuse detection are
 * the refresh_token grant's own (RFC 9700 §4.14.2).
 */
async function refreshKeyFamily(context: GrantContext, deps: Deps, presented: string): Promise<TokenResult> {
  const record = await deps.refreshTokens.findRefreshToken(refreshTokenKey(presented))
  const keyId = record?.grant.apiKeyId
  if (!record || keyId === null || keyId === undefined) throw INVALID_REFRESH('not a refresh token of an API key')
  const key = await deps.apiKeys.getApiKey(keyId)
  if (!key || !isLive(key, deps.clock.now())) throw INVALID_REFRESH(`API key ${keyId} is no longer live`)
  const client = await ownerClient(deps, key, INVALID_REFRESH)
  return exchangeRefreshToken(deps, client, presented, { scope: context.request.scope })
}

async function handle(context: GrantContext, deps: Deps): Promise<TokenResult> {
  const { apiKey, apiKeyRefreshToken } = context.request
  if (apiKey !== undefined && apiKey !== '') return exchangeApiKey(context, deps, apiKey)
  if (apiKeyRefreshToken !== undefined && apiKeyRefreshToken !== '') return refreshKeyFamily(context, deps, apiKeyRefreshToken)
  throw new OAuthError('invalid_request', { description: 'An API key is required.' })
}

/** Canary-style API keys: the key stands for its owner client, so no client authentication. */
export const apiKey = {
  grantType: 'api_key',
  parameters: ['api_key', 'refresh_token', 'username', 'password', 'scope'],
  requiresClientAuthentication: false,
  handle,
} satisfies Grant
