import { isAdminAudience } from '../admin/admin-audience.js'
import { EMPTY_CATALOG, resolveAudience, resourceAllowed, type ApiCatalog } from '../audience.js'
import { OAuthError } from '../errors.js'
import { requestedTarget } from '../resource-indicators.js'
import { narrowScopes } from '../scope.js'
import type { TokenService } from '../tokens/token-service.js'
import { TOKEN_EXCHANGE_GRANT, type ActorClaim, type Client, type TokenIntrospection, type TokenRequest, type TokenResult } from '../types.js'
import { exchangeApiKey, type ApiKeyGrantDeps } from './api-key.js'
import { accessTokenType, clientOf, type Grant, type GrantContext } from './grant.js'

/** RFC 8693 §3: the token type identifiers Gatehouse reads and writes. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'
export const REFRESH_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:refresh_token'
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt'
/** Gatehouse's own (RFC 8693 §3 allows any URI): an API key `KEYID:SECRET`, traded as the Canary endpoints trade it. */
export const API_KEY_TOKEN_TYPE = 'urn:gatehouse:params:oauth:token-type:api-key'

/** A chain of delegation deeper than this is no real deployment's; it only grows tokens. */
const MAX_ACTOR_DEPTH = 5

type Deps = { tokens: TokenService; apis?: ApiCatalog; inspectAccessToken?: (token: string) => Promise<TokenIntrospection> } & ApiKeyGrantDeps

const parameter = (request: TokenRequest, name: string): string | undefined => request.parameters?.get(name)

/**
 * RFC 8693 §2.2.2: a subject or actor token that is "invalid for any reason, or unacceptable
 * based on policy" MUST be answered `invalid_request` (not `invalid_grant`, which RFC 6749 keeps
 * for the grant types it defines). The description says which token; never why.
 */
const INVALID = (what: 'subject' | 'actor', debug: string): OAuthError =>
  new OAuthError('invalid_request', { description: `The ${what}_token is invalid, expired, revoked or not acceptable here.`, debug })

/**
 * RFC 8693 §2.1: `subject_token_type` (and `actor_token_type`) must say what the token is. An
 * access token (or a JWT access token) of Gatehouse is exchanged; a refresh token never is — it
 * is the client's own credential for its grant, not a statement about a subject.
 */
function checkTokenType(what: 'subject' | 'actor', type: string | undefined): void {
  if (type === undefined) throw new OAuthError('invalid_request', { description: `The ${what}_token_type parameter is required.` })
  if (type === REFRESH_TOKEN_TYPE) throw new OAuthError('invalid_request', { description: 'A refresh token cannot be exchanged: exchange an access token (RFC 8693 §2.1).' })
  if (type !== ACCESS_TOKEN_TYPE && type !== JWT_TOKEN_TYPE) {
    throw new OAuthError('invalid_request', { description: `The ${what}_token_type "${type.slice(0, 100)}" is not supported; use ${ACCESS_TOKEN_TYPE}${what === 'subject' ? ` (or ${API_KEY_TOKEN_TYPE} for an API key)` : ''}.` })
  }
}

/** A live access token of this Gatehouse, or invalid_request (RFC 8693 §2.2.2): never one for the management API. */
async function inspect(deps: Deps, what: 'subject' | 'actor', token: string, issuer: string): Promise<TokenIntrospection> {
  if (!deps.inspectAccessToken) throw new Error('token exchange needs in-process introspection')
  const found = await deps.inspectAccessToken(token)
  if (!found.active || found.subject === undefined) throw INVALID(what, 'not an active access token of this server')
  // An operator's management token stays with the operator: it is never traded for another.
  if (isAdminAudience(found.audience, issuer)) throw INVALID(what, 'token for the management API')
  return found
}

function depth(act: ActorClaim | undefined): number {
  return act === undefined ? 0 : 1 + depth(act.act)
}

/**
 * RFC 8693 §4.1: who acts now. With an actor token (delegation), its subject (and its own
 * actors, nested); without one (impersonation, a per-client permission), the exchanging client
 * itself. Either way the subject token's earlier actors stay nested underneath, so the chain
 * of who called whom survives every hop.
 */
async function actorOf(deps: Deps, context: GrantContext, client: Client, subject: TokenIntrospection): Promise<ActorClaim> {
  const { request } = context
  const actorToken = parameter(request, 'actor_token')
  const actorType = parameter(request, 'actor_token_type')
  let actor: ActorClaim
  if (actorToken === undefined) {
    if (actorType !== undefined) throw new OAuthError('invalid_request', { description: 'actor_token_type was sent without an actor_token.' })
    if (!client.allowImpersonation) {
      throw new OAuthError('invalid_request', { description: 'This client must send an actor_token (delegation): exchanging a token without one (impersonation) is not allowed for it.' })
    }
    actor = { sub: client.id, client_id: client.id }
  } else {
    checkTokenType('actor', actorType)
    const found = await inspect(deps, 'actor', actorToken, deps.tokens.issuer)
    actor = { sub: found.subject ?? '', ...(found.clientId !== undefined ? { client_id: found.clientId } : {}), ...(found.act !== undefined ? { act: found.act } : {}) }
  }
  const chained: ActorClaim = subject.act === undefined ? actor : { ...actor, act: actor.act === undefined ? subject.act : actor.act }
  if (depth(chained) > MAX_ACTOR_DEPTH) throw new OAuthError('invalid_request', { description: `A chain of more than ${MAX_ACTOR_DEPTH} actors is not accepted.` })
  return chained
}

/**
 * RFC 8693 §2: a client that received a subject's access token (it is the API the token was
 * issued for) trades it for a token for the next API it calls on that subject's behalf. The new
 * token belongs to the subject token's grant — ending the user's grant ends it too — lives no
 * longer than the subject token, carries only scopes the subject token had, and names in `act`
 * who acts. Audience: `resource`/`audience`, within the client's allowed resources.
 */
async function exchangeAccessToken(context: GrantContext, deps: Deps): Promise<TokenResult> {
  const client = clientOf(context)
  const { request } = context
  const registry = deps.apis ?? EMPTY_CATALOG
  const subjectToken = parameter(request, 'subject_token')
  if (subjectToken === undefined) throw new OAuthError('invalid_request', { description: 'The subject_token parameter is required.' })
  checkTokenType('subject', parameter(request, 'subject_token_type'))
  const subject = await inspect(deps, 'subject', subjectToken, deps.tokens.issuer)
  // The client must be (one of) the API(s) the subject token was issued for.
  if (subject.audience === undefined || !resourceAllowed(client, subject.audience, registry)) {
    throw INVALID('subject', 'subject token was not issued for an API this client acts as')
  }
  const act = await actorOf(deps, context, client, subject)
  const granted = narrowScopes(request.scope, subject.scope === undefined || subject.scope === '' ? [] : subject.scope.split(' '))
  const { audience, scopes } = resolveAudience({ client, requested: requestedTarget(request), scopes: granted, registry, forUser: true })
  const access = await deps.tokens.issueAccessToken({
    client,
    subject: subject.subject ?? '',
    scopes,
    grantId: subject.grantId ?? null,
    act,
    ...(subject.expiresAt !== undefined ? { expiresAtMost: subject.expiresAt } : {}),
    ...(audience !== undefined ? { audience } : {}),
    ...(context.dpopJkt !== undefined ? { dpopJkt: context.dpopJkt } : {}),
  })
  return {
    accessToken: access.token,
    tokenType: accessTokenType(context.dpopJkt),
    expiresIn: access.expiresIn,
    scope: scopes.join(' '),
    clientId: client.id,
    subject: subject.subject ?? '',
    issuedTokenType: ACCESS_TOKEN_TYPE,
  }
}

/**
 * An API key as the subject token: the key stands for its client, exactly as at the Canary
 * endpoints (no client authentication; client credentials sent beside it are refused rather than
 * ignored), and the answer is the one they give, refresh token included.
 */
async function exchangeKey(context: GrantContext, deps: Deps): Promise<TokenResult> {
  if (context.request.client !== undefined) throw new OAuthError('invalid_request', { description: 'An API key stands for its client: send no client credentials with it.' })
  const key = parameter(context.request, 'subject_token')
  if (key === undefined) throw new OAuthError('invalid_request', { description: 'The subject_token parameter is required.' })
  const result = await exchangeApiKey(context, deps, key)
  return { ...result, issuedTokenType: ACCESS_TOKEN_TYPE }
}

async function handle(context: GrantContext, deps: Deps): Promise<TokenResult> {
  const requestedType = parameter(context.request, 'requested_token_type')
  if (requestedType !== undefined && requestedType !== ACCESS_TOKEN_TYPE) {
    throw new OAuthError('invalid_request', { description: `Only ${ACCESS_TOKEN_TYPE} can be requested.` })
  }
  return isApiKeyExchange(context.request) ? exchangeKey(context, deps) : exchangeAccessToken(context, deps)
}

const isApiKeyExchange = (request: TokenRequest): boolean => parameter(request, 'subject_token_type') === API_KEY_TOKEN_TYPE

/** RFC 8693 token exchange. Client authentication as for any grant, but for an API key, which is its own. */
export const tokenExchange = {
  grantType: TOKEN_EXCHANGE_GRANT,
  parameters: ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'resource', 'audience', 'scope'],
  requiresClientAuthentication: (request: TokenRequest) => !isApiKeyExchange(request),
  handle,
} satisfies Grant
