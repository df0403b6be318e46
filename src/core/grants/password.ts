import type { UserStore } from '../credentials/user-store.js'
import type { AbuseGuard } from '../abuse/abuse-guard.js'
import { burnPasswordCheck, verifyPassword } from '../credentials/password.js'
import { OAuthError } from '../errors.js'
import { checkOperatorAudience, type AdminAudienceGrant, type OperatorAudienceDeps } from '../admin/operator-audience.js'
import { EMPTY_CATALOG, resolveAudience, type ApiCatalog } from '../audience.js'
import { grantScopes } from '../scope.js'
import type { TokenService } from '../tokens/token-service.js'
import type { Client, EngineObserver, TokenResult, User } from '../types.js'
import { clientOf, type Grant, type GrantContext } from './grant.js'
import { requestedTarget } from '../resource-indicators.js'
import { issueUserTokens } from './issue-user-tokens.js'

type Deps = { tokens: TokenService; users: UserStore; observer?: EngineObserver; guard?: AbuseGuard; apis?: ApiCatalog } & OperatorAudienceDeps

const INVALID_CREDENTIALS = 'invalid_username_or_password'

/**
 * Unknown user, disabled user and wrong password all cost one argon2 verification and give
 * the same `invalid_grant`, so the answer does not tell which usernames exist. A username
 * locked for this address (the guard's lockout, kept for unknown names too) answers exactly the
 * same, even to the right password.
 */
export async function checkUserCredentials(users: Pick<UserStore, 'getUserByUsername'>, username: string, password: string, guard?: AbuseGuard, source = ''): Promise<User> {
  const name = username.trim().toLowerCase()
  // The argon2 work takes its turn by source, so a flood from one address cannot starve others.
  const hashing = <T>(check: () => Promise<T>): Promise<T> => (guard ? guard.passwordCheck(source, check) : check())
  const lockedFor = guard ? await guard.userLockedFor(name, source) : 0
  // Past the username's ceiling (failures from everywhere), every attempt waits: slowed, not locked.
  const slowdown = guard ? await guard.userSlowdownMs(name) : 0
  if (slowdown > 0) await new Promise((resolve) => setTimeout(resolve, slowdown))
  if (lockedFor > 0) {
    await hashing(() => burnPasswordCheck(password))
    throw new OAuthError('invalid_grant', { description: INVALID_CREDENTIALS, debug: `account locked (${lockedFor} s left)` })
  }
  // The lookup runs inside the check's turn too: an attempt the queue refuses (503) costs no store read.
  const { user, valid } = await hashing(async () => {
    const found = await users.getUserByUsername(name)
    return { user: found, valid: found ? await verifyPassword(found.passwordHash, password) : await burnPasswordCheck(password) }
  })
  if (!user || !valid || user.disabled) {
    const lockedMs = guard ? await guard.userFailed(name, source) : 0
    const reason = !user ? 'unknown username' : user.disabled ? 'user disabled' : 'wrong password'
    throw new OAuthError('invalid_grant', {
      description: INVALID_CREDENTIALS,
      debug: lockedMs > 0 ? `${reason}; account locked for ${Math.ceil(lockedMs / 1000)} s` : reason,
    })
  }
  if (guard) await guard.userSucceeded(name, source)
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
  const user = await checkUserCredentials(deps.users, username, password, deps.guard, context.request.origin?.ip)
    .then((found) => {
      checkUserAllowed(client, found)
      return found
    })
    .catch((error: unknown) => {
      reportFailedLogin(deps, error, { username, clientId: client.id, ip: context.request.origin?.ip })
      throw error
    })
  // Checked after the password, so the answer tells a stranger nothing about the operator list.
  const target = requestedTarget(context.request)
  if (target !== undefined) {
    const admin = await checkOperatorAudience(deps, { audience: target, scope: context.request.scope, issuer: deps.tokens.issuer, subject: { kind: 'user', id: user.id } })
    if (admin) return issueAdminToken(deps, { client, subject: user.id, admin })
  }
  const granted = grantScopes({ requested: context.request.scope, client, policy: context.policy, forUser: true })
  const { audience, scopes } = resolveAudience({ client, requested: target, scopes: granted, registry: deps.apis ?? EMPTY_CATALOG, forUser: true })
  return issueUserTokens(deps, { client, subject: user.id, scopes, policy: context.policy, grantType: 'password', audience, dpopJkt: context.dpopJkt })
}

/**
 * An operator's management token: the admin audience, no scope and no refresh token — a
 * refresh would outlive the operator check that happened here, so operators sign in again.
 * It belongs to a grant like any user token, so disabling the user or changing their password
 * ends it at once.
 */
async function issueAdminToken(deps: Deps, input: { client: Client; subject: string; admin: AdminAudienceGrant }): Promise<TokenResult> {
  const { grant } = await deps.tokens.startGrant({ client: input.client, subject: input.subject, subjectType: 'user', grantType: 'password', scopes: input.admin.scopes, audience: input.admin.audience, withRefreshToken: false })
  const access = await deps.tokens.issueAccessToken({ client: input.client, subject: input.subject, scopes: input.admin.scopes, audience: input.admin.audience, grantId: grant.id })
  return { accessToken: access.token, tokenType: 'Bearer', expiresIn: access.expiresIn, scope: input.admin.scopes.join(' '), clientId: input.client.id, subject: input.subject }
}

export const password = {
  grantType: 'password',
  parameters: ['username', 'password', 'scope', 'audience', 'resource'],
  requiresClientAuthentication: true,
  handle,
} satisfies Grant
