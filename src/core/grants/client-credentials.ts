import { checkOperatorAudience, type OperatorAudienceDeps } from '../admin/operator-audience.js'
import { EMPTY_CATALOG, resolveAudience, type ApiCatalog } from '../audience.js'
import { requestedTarget } from '../resource-indicators.js'
import type { Clock } from '../clock.js'
import { grantScopes } from '../scope.js'
import type { ReuseKey, TokenReuse } from '../tokens/token-reuse.js'
import type { IssuedAccessToken, TokenService } from '../tokens/token-service.js'
import type { TokenResult } from '../types.js'
import { accessTokenType, clientOf, type Grant, type GrantContext } from './grant.js'

type Deps = { tokens: TokenService; apis?: ApiCatalog; clock: Clock; reuse?: TokenReuse } & OperatorAudienceDeps

/** The client's token reuse window (off by default): the same token again, else a new one, remembered. */
async function issueOrReuse(deps: Deps, key: ReuseKey, issue: () => Promise<IssuedAccessToken>): Promise<IssuedAccessToken> {
  const reused = deps.reuse?.find(key)
  if (reused) return reused
  const issuedAt = deps.clock.now()
  const access = await issue()
  deps.reuse?.remember(key, access, issuedAt)
  return access
}

/** RFC 6749 §4.4: the client acts for itself; the subject is the client. */
async function handle(context: GrantContext, deps: Deps): Promise<TokenResult> {
  const client = clientOf(context)
  const { request } = context
  const target = requestedTarget(request)
  // RFC 8707 §2: only a named audience can need the operator list; without one, no store read.
  const admin =
    target === undefined
      ? undefined
      : await checkOperatorAudience(deps, { audience: target, scope: request.scope, issuer: deps.tokens.issuer, subject: { kind: 'client', id: client.id } })
  // The admin audience carries no scope; any other audience is the registry's, in memory (no
  // database read on this benchmarked path).
  const { audience, scopes } =
    admin ??
    resolveAudience({
      client,
      requested: target,
      scopes: grantScopes({ requested: request.scope, client, policy: context.policy, forUser: false }),
      registry: deps.apis ?? EMPTY_CATALOG,
      forUser: false,
    })
  const bound = context.dpopJkt !== undefined ? { dpopJkt: context.dpopJkt } : {}
  const access = await issueOrReuse(deps, { client, scopes, audience, dpopJkt: context.dpopJkt }, () =>
    deps.tokens.issueAccessToken(audience === undefined ? { client, subject: client.id, scopes, ...bound } : { client, subject: client.id, scopes, audience, ...bound }),
  )
  /** RFC 6749 §4.4.3 — a refresh token SHOULD NOT be included here. */
  return {
    accessToken: access.token,
    tokenType: accessTokenType(context.dpopJkt),
    expiresIn: access.expiresIn,
    scope: scopes.join(' '),
    clientId: client.id,
    subject: client.id,
  }
}

export const clientCredentials = {
  grantType: 'client_credentials',
  parameters: ['scope', 'audience', 'resource'],
  requiresClientAuthentication: true,
  handle,
} satisfies Grant
