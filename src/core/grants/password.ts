import type { UserStore } from '../credentials/user-store.js'
import type { AbuseGuard } from '../abuse/abuse-guard.js'
import { burnPasswordCheck, verifyPassword } from '../credentials/password.js'
import { OAuthError } from '../errors.js'
import { EMPTY_CATALOG, resolveAudience, type ApiCatalog } from '../audience.js'
import { grantScopes } from '../scope.js'
import type { TokenService } from '../tokens/token-service.js'
import type { Client, EngineObserver, TokenResult, User } from '../types.js'
import { clientOf, type Grant, type GrantContext } from './grant.js'
import { issueUserTokens } from './issue-user-tokens.js'

type Deps = { tokens: TokenService; users: UserStore; observer?: EngineObserver; guard?: AbuseGuard; apis?: ApiCatalog }

const INVALID_CREDENTIALS = 'invalid_username_or_password'

/**
 * Unknown user, disabled user and wrong password all cost one argon2 verification and give
 * the same `invalid_grant`, so the answer does not tell which usernames exist. A locked
 * username (the guard's lockout, kept for unknown names too) answers exactly the same, even
 * to the right password.
 */
export async function checkUserCredentials(users: UserStore, username: string, password: string, guard?: AbuseGuard): Promise<User> {
  const name = username.trim().toLowerCase()
  const lockedFor = guard ? await guard.userLockedFor(name) : 0
  if (lockedFor > 0) {
    await burnPasswordCheck(password)
    throw new OAuthError('invalid_grant', { description: INVALID_CREDENTIALS, debug: `account locked (${lockedFor} s left)` })
  }
  const user = await users.getUserByUsername(name)
  const valid = user ? await verifyPassword(user.passwordHash, password) : await burnPasswordCheck(password)
  if (!user || !valid || user.disabled) {
    const lockedMs = guard ? await guard.userFailed(name) : 0
    const reason = !user ? 'unknown username' : user.disabled ? 'user disabled' : 'wrong password'
    throw new OAuthError('invalid_grant', {
      description: INVALID_CREDENTIALS,
      debug: lockedMs > 0 ? `${reason}; account locked for ${Math.ceil(lockedMs / 1000)} s` : reason,
    })
  }
  if (guard) await guard.userSucceeded(name)
  return user
}

/**
 * A client may log in only the users it is allowed (`allowedUsers`; null is any user): a
 * console application logs in its owner only. Checked after the credentials, and answered
 * exactly like a wrong password, so it tells nothing about the account.
 */
export function checkUserAllowed(client: Client, user: User): void {
  if (client.allowedUsers !== null && !client.allowedUsers.includes(user.id)) {
    throw new OAuthError('invalid_grant', { description: INVALID_CREDENTIALS, debug: 'user not allowed for this client' })
  }
}

/** Audit: a failed login names the username and client, never the password. */
function reportFailedLogin(deps: Deps, error: unknown, attempt: { username: string; clientId: string; ip: string | undefined }): void {
  if (!(error instanceof OAuthError) || error.code !== 'invalid_grant') return
  deps.observer?.authenticationFailed?.({
    kind: 'user',
    id: attempt.username.trim().toLowerCase(),
    reason: error.debug ?? 'invalid credentials',
    clientId: attempt.clientId,
    ...(attempt.ip !== undefined ? { ip: attempt.ip } : {}),
  })
}

/** RFC 6749 §4.3: resource owner password credentials. */
async function handle(context: GrantContext, deps: Deps): Promise<TokenResult> {
  const client = clientOf(context)
  const { username } = context.request
  let { password } = context.request
  if (context.policy.missingUserCredentials === 'invalid_grant') {
    // IdentityServer: a missing username is a failed login; a missing password an empty one.
    if (username === undefined || username === '') throw new OAuthError('invalid_grant', { description: INVALID_CREDENTIALS, debug: 'no username' })
    password ??= ''
  }
  if (username === undefined || username === '') {
    throw new OAuthError('invalid_request', { description: 'The username parameter is required.' })
  }
  if (password === undefined) {
    throw new OAuthError('invalid_request', { description: 'The password parameter is required.' })
  }
  const user = await checkUserCredentials(deps.users, username, password, deps.guard)
    .then((found) => {
      checkUserAllowed(client, found)
      return found
    })
    .catch((error: unknown) => {
      reportFailedLogin(deps, error, { username, clientId: client.id, ip: context.request.origin?.ip })
      throw error
    })
  const granted = grantScopes({ requested: context.request.scope, client, policy: context.policy, forUser: true })
  const { audience, scopes } = resolveAudience({ client, requested: context.request.audience, scopes: granted, registry: deps.apis ?? EMPTY_CATALOG, forUser: true })
  return issueUserTokens(deps, { client, subject: user.id, scopes, policy: context.policy, audience })
}

export const password = {
  grantType: 'password',
  parameters: ['username', 'password', 'scope', 'audience'],
  requiresClientAuthentication: true,
  handle,
} satisfies Grant
