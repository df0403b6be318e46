import type { DeviceAuthorizationStore } from '../authorization/device-authorization-store.js'
import { dpopGrantBinding, issueSignInTokens, wantsRefreshToken } from './issue-user-tokens.js'
import type { Clock } from '../clock.js'
import { digestSecret } from '../credentials/secrets.js'
import type { UserStore } from '../credentials/user-store.js'
import { OAuthError } from '../errors.js'
import { endGrants } from '../grant-ending.js'
import type { GrantStore } from '../tokens/token-store.js'
import type { TokenService } from '../tokens/token-service.js'
import { DEVICE_CODE_GRANT, type TokenResult } from '../types.js'
import { clientOf, type Grant, type GrantContext } from './grant.js'

type Deps = { tokens: TokenService; users: Pick<UserStore, 'getUser'>; grants: Pick<GrantStore, 'endGrants'>; clock: Clock; deviceAuthorizations?: DeviceAuthorizationStore }

/** RFC 8628 §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent requests". */
export const SLOW_DOWN_SECONDS = 5

const INVALID = (debug: string): OAuthError => new OAuthError('invalid_grant', { description: 'The device code is invalid or already used.', debug })

const scopeList = (scope: string): string[] => (scope === '' ? [] : scope.split(' '))

/**
 * RFC 8628 §3.4–3.5: the device polls with its device_code. Until the person decides it hears
 * `authorization_pending` (or `slow_down` when it polled sooner than its interval, which then
 * grows by 5 s); then `access_denied`, or the tokens, once: the authorization is consumed
 * atomically, so of two concurrent polls one gets the tokens and the other `invalid_grant`.
 * After `expires_in` it is `expired_token`. Another client's device_code is answered exactly
 * like an unknown one. The user must still be enabled and allowed; an ID token comes with `openid`.
 */
async function handle(context: GrantContext, deps: Deps): Promise<TokenResult> {
  const client = clientOf(context)
  const store = deps.deviceAuthorizations
  if (!store) throw new OAuthError('unsupported_grant_type', { description: `The grant type '${DEVICE_CODE_GRANT}' is not supported.` })
  const presented = context.request.parameters?.get('device_code')
  if (presented === undefined) throw new OAuthError('invalid_request', { description: 'The device_code parameter is required.' })

  const digest = digestSecret(presented)
  const record = await store.findDeviceAuthorization(digest)
  if (!record || record.clientId !== client.id) throw INVALID(record ? 'device code of another client' : 'unknown device code')
  // A device code is redeemed once. Unlike an authorization code it never passes through a
  // browser, so a second use is not taken as a leak: the first use's tokens stay.
  if (record.usedAt !== null) throw INVALID('device code already redeemed')
  const now = deps.clock.now()
  if (record.expiresAt <= now) throw new OAuthError('expired_token', { description: 'The device code has expired; start again.' })
  if (record.status === 'denied') throw new OAuthError('access_denied', { description: 'The user denied the request.' })
  if (record.status === 'pending') {
    // Recorded in one statement that returns the poll before it, so polls reaching two instances at once see each other.
    const previous = await store.recordDevicePoll(digest, now)
    if (previous !== null && now - previous < record.interval * 1000) {
      await store.recordDevicePoll(digest, now, record.interval + SLOW_DOWN_SECONDS)
      throw new OAuthError('slow_down', { description: `Polled too often; wait at least ${record.interval + SLOW_DOWN_SECONDS} seconds between requests.` })
    }
    throw new OAuthError('authorization_pending', { description: 'The user has not yet approved the request.' })
  }

  const userId = record.userId ?? ''
  const user = await deps.users.getUser(userId)
  if (!user || user.disabled) throw INVALID(user ? 'user disabled' : 'user deleted')
  if (client.allowedUsers !== null && !client.allowedUsers.includes(user.id)) throw INVALID('user not allowed for this client')

  const scopes = scopeList(record.scope)
  const audience = record.audience !== null ? { audience: record.audience } : {}
  const { grant, refresh } = await deps.tokens.startGrant({
    client,
    subject: user.id,
    subjectType: 'user',
    grantType: DEVICE_CODE_GRANT,
    scopes,
    withRefreshToken: wantsRefreshToken(client, scopes, context.policy),
    ...audience,
    ...dpopGrantBinding(client, context.dpopJkt),
  })
  // The grant exists before the authorization is marked; the poll that loses the race ends its own.
  if ((await store.consumeDeviceAuthorization(digest, now, grant.id)) !== 'consumed') {
    await endGrants(deps, { grantId: grant.id }, 'code_reused')
    throw INVALID('device code redeemed by a concurrent request')
  }
  return issueSignInTokens(deps, {
    client,
    user,
    scopes,
    grantId: grant.id,
    refreshToken: refresh?.token,
    audience: record.audience,
    dpopJkt: context.dpopJkt,
    signIn: { authTime: record.authTime ?? now, nonce: null, sessionId: record.sessionId },
  })
}

export const deviceCode = {
  grantType: DEVICE_CODE_GRANT,
  parameters: ['device_code'],
  requiresClientAuthentication: true,
  handle,
} satisfies Grant
