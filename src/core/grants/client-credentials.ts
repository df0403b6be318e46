import { EMPTY_CATALOG, resolveAudience, type ApiCatalog } from '../audience.js'
import { grantScopes } from '../scope.js'
import type { TokenService } from '../tokens/token-service.js'
import type { TokenResult } from '../types.js'
import { clientOf, type Grant, type GrantContext } from './grant.js'

type Deps = { tokens: TokenService; apis?: ApiCatalog }

/** RFC 6749 §4.4: the client acts for itself; the subject is the client. */
async function handle(context: GrantContext, deps: Deps): Promise<TokenResult> {
  const client = clientOf(context)
  const granted = grantScopes({ requested: context.request.scope, client, policy: context.policy, forUser: false })
  // In memory: the registry adds no database read to this (benchmarked) path.
  const { audience, scopes } = resolveAudience({ client, requested: context.request.audience, scopes: granted, registry: deps.apis ?? EMPTY_CATALOG, forUser: false })
  const access = await deps.tokens.issueAccessToken(audience === undefined ? { client, subject: client.id, scopes } : { client, subject: client.id, scopes, audience })
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
  parameters: ['scope', 'audience'],
  requiresClientAuthentication: true,
  handle,
} satisfies Grant
