import { grantScopes } from '../scope.js'
import type { TokenService } from '../tokens/token-service.js'
import type { TokenResult } from '../types.js'
import { clientOf, type Grant, type GrantContext } from './grant.js'

type Deps = { tokens: TokenService }

/** RFC 6749 §4.4: the client acts for itself; the subject is the client. */
async function handle(context: GrantContext, deps: Deps): Promise<TokenResult> {
  const client = clientOf(context)
  const scopes = grantScopes({ requested: context.request.scope, client, policy: context.policy, forUser: false })
  const access = await deps.tokens.issueAccessToken({ client, subject: client.id, scopes })
  /** RFC 6749 §4.4.3 — a refresh token SHOULD NOT be included here. */
  return {
    accessToken: access.token,
    tokenType: 'Bearer',
    expiresIn: access.expiresIn,
    scope: scopes.join(' '),
    clientId: client.id,
    subject: client.id,
  }
}

export const clientCredentials = {
  grantType: 'client_credentials',
  parameters: ['scope'],
  requiresClientAuthentication: true,
  handle,
} satisfies Grant
