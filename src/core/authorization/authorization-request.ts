import { OAuthError } from '../errors.js'
import { EMPTY_CATALOG, resourceAllowed, type ApiCatalog } from '../audience.js'
import { parseResources, RESOURCE_PARAMETER } from '../resource-indicators.js'
import type { ClientCache } from '../client-cache.js'
import type { Clock } from '../clock.js'
import { digestSecret } from '../credentials/secrets.js'
import { grantScopes } from '../scope.js'
import { STANDARD_POLICY, type Client } from '../types.js'
import { AuthorizationPageError, AuthorizationRedirectError } from './authorization-errors.js'
import { isS256Challenge } from './pkce.js'
import type { PushedRequestStore } from './pushed-request-store.js'
import { redirectUriRegistered } from './redirect-uri.js'

/** Every value of every parameter, as the browser sent them (repeats kept, so they can be refused). */
export type RawParameters = ReadonlyMap<string, readonly string[]>

export type Prompt = 'none' | 'login' | 'consent'

/** A checked authorization request (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1). */
export interface AuthorizationRequest {
  client: Client
  redirectUri: string
  state: string | undefined
  scopes: string[]
  nonce: string | undefined
  codeChallenge: string
  prompt: ReadonlySet<Prompt>
  /** Seconds (Core §3.1.2.1): a sign-in older than this must be repeated. */
  maxAge: number | undefined
  loginHint: string | undefined
  /** RFC 8707 §2: the resources the request names, each one the client may ask for; the code keeps them. */
  resources: string[]
  /** RFC 9449 §10: the thumbprint of the key the code is bound to (`dpop_jkt`). */
  dpopJkt: string | undefined
  /** The digest of the pushed request it came from (RFC 9126), used up when a code is issued. */
  pushedRequest: string | undefined
  /**
   * The parameters to carry through the sign-in and consent forms, so the request can be checked
   * again when they are posted (nothing is trusted from the form): for a pushed request only
   * `client_id` and `request_uri`.
   */
  carried: Record<string, string>
}

/** RFC 9126 §2.2: the request_uri the pushed-request endpoint hands out. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:'

/** Longest accepted value of any one parameter; a redirect URL must stay well under browsers' limits. */
const MAX_PARAMETER = 2048
const MAX_STATE = 1024
const MAX_NONCE = 512
const PROMPTS: ReadonlySet<string> = new Set(['none', 'login', 'consent', 'select_account'])

type Deps = { clients: ClientCache; pushedRequests: Pick<PushedRequestStore, 'findPushedRequest'>; clock: Clock; apis?: ApiCatalog }

/** RFC 7638 §3: a SHA-256 JWK thumbprint, base64url (43 characters). */
const JKT = /^[A-Za-z0-9_-]{43}$/

/**
 * RFC 8707 §2: `resource` is the one parameter that may be repeated. Its values become one,
 * space-separated (a URI has no space), so that it travels through the forms and a pushed
 * request like any other parameter, and is split again when checked.
 */
export function withJoinedResources(raw: RawParameters): RawParameters {
  const values = raw.get(RESOURCE_PARAMETER)
  if (values === undefined || values.length < 2) return raw
  const joined = new Map(raw)
  joined.set(RESOURCE_PARAMETER, [values.filter((value) => value !== '').join(' ')])
  return joined
}

/** One value or none; a repeated parameter is refused (RFC 6749 §3.1), an empty one is absent. */
function single(parameters: RawParameters, name: string): string | undefined | 'repeated' {
  const values = parameters.get(name)
  if (values === undefined || values.length === 0) return undefined
  if (values.length > 1) return 'repeated'
  return values[0] === '' ? undefined : values[0]
}

/**
 * Checks an authorization request. Until the client and its redirect URI are known good, an
 * error is an AuthorizationPageError (shown, never redirected: an attacker's redirect_uri
 * must not receive anything, RFC 6749 §4.1.2.1); after that, an AuthorizationRedirectError.
 */
export async function checkAuthorizationRequest(deps: Deps, raw: RawParameters, options: { fromPushedRequest?: boolean } = {}): Promise<AuthorizationRequest> {
  const clientId = single(raw, 'client_id')
  if (clientId === undefined) throw new AuthorizationPageError('invalid_request', 'The request has no client_id.')
  if (clientId === 'repeated' || clientId.length > 200) throw new AuthorizationPageError('invalid_request', 'The client_id parameter is malformed.')
  const client = await deps.clients.get(clientId)
  if (!client) throw new AuthorizationPageError('invalid_client', 'No application is registered with this client_id.')

  // RFC 9126 §4: with a request_uri, every other parameter comes from the pushed request.
  let parameters = withJoinedResources(raw)
  let pushedRequest: string | undefined
  const requestUri = single(raw, 'request_uri')
  if (requestUri !== undefined && !options.fromPushedRequest) {
    if (requestUri === 'repeated' || !requestUri.startsWith(REQUEST_URI_PREFIX)) throw new AuthorizationPageError('invalid_request_uri', 'The request_uri is not one this server issued.')
    pushedRequest = digestSecret(requestUri.slice(REQUEST_URI_PREFIX.length))
    const pushed = await deps.pushedRequests.findPushedRequest(pushedRequest)
    if (!pushed || pushed.clientId !== client.id || pushed.usedAt !== null || pushed.expiresAt <= deps.clock.now()) {
      throw new AuthorizationPageError('invalid_request_uri', 'The request_uri is unknown, expired or already used; start the sign-in again.')
    }
    parameters = new Map(Object.entries(pushed.parameters).map(([name, value]) => [name, [value]]))
  }

  const redirectUri = single(parameters, 'redirect_uri')
  if (redirectUri === undefined) throw new AuthorizationPageError('invalid_request', 'The request has no redirect_uri.')
  if (redirectUri === 'repeated' || !redirectUriRegistered(client.redirectUris, redirectUri)) {
    throw new AuthorizationPageError('invalid_request', 'The redirect_uri is not registered for this application.')
  }

  // From here on, errors go back to the client.
  const rawState = single(parameters, 'state')
  const stateOk = rawState !== 'repeated' && (rawState === undefined || rawState.length <= MAX_STATE)
  const state = stateOk ? rawState : undefined
  const fail = (code: ConstructorParameters<typeof AuthorizationRedirectError>[0], description: string): never => {
    throw new AuthorizationRedirectError(code, description, { redirectUri, state })
  }
  if (!stateOk) fail('invalid_request', rawState === 'repeated' ? 'The state parameter is repeated.' : `The state parameter is longer than ${MAX_STATE} characters.`)
  for (const [name, values] of parameters) {
    if (values.length > 1) fail('invalid_request', `The ${name.slice(0, 50)} parameter is repeated.`)
    if ((values[0] ?? '').length > MAX_PARAMETER) fail('invalid_request', `The ${name.slice(0, 50)} parameter is too long.`)
  }
  const value = (name: string): string | undefined => {
    const found = single(parameters, name)
    return found === 'repeated' ? undefined : found
  }

  if (value('request') !== undefined) fail('request_not_supported', 'Request objects are not supported; use pushed authorization requests (RFC 9126).')
  if (options.fromPushedRequest && value('request_uri') !== undefined) fail('invalid_request', 'A pushed request cannot carry a request_uri.')
  if (client.requirePar && pushedRequest === undefined && !options.fromPushedRequest) fail('invalid_request', 'This application must push its authorization requests to the pushed authorization request endpoint (RFC 9126).')

  const responseType = value('response_type')
  if (responseType === undefined) fail('invalid_request', 'The response_type parameter is required.')
  if (responseType !== 'code') fail('unsupported_response_type', 'Only response_type=code is supported.')
  const responseMode = value('response_mode')
  if (responseMode !== undefined && responseMode !== 'query') fail('invalid_request', 'Only response_mode=query is supported.')
  if (!client.grantTypes.includes('authorization_code')) fail('unauthorized_client', 'This application may not use the authorization code grant.')

  // RFC 9700 §2.1.1 and OAuth 2.1: PKCE for every client, and only S256.
  const codeChallenge = value('code_challenge')
  if (codeChallenge === undefined) fail('invalid_request', 'The code_challenge parameter is required (PKCE, RFC 7636).')
  const method = value('code_challenge_method')
  if (method !== 'S256') fail('invalid_request', 'The code_challenge_method must be S256.')
  if (!isS256Challenge(codeChallenge ?? '')) fail('invalid_request', 'The code_challenge is not a base64url SHA-256 value.')

  let scopes: string[] = []
  try {
    scopes = grantScopes({ requested: value('scope'), client, policy: STANDARD_POLICY, forUser: true })
  } catch (error) {
    if (error instanceof OAuthError) fail('invalid_scope', error.description ?? 'The scope is not allowed.')
    throw error
  }

  let resources: string[] = []
  try {
    resources = parseResources(value(RESOURCE_PARAMETER))
  } catch (error) {
    if (error instanceof OAuthError) fail('invalid_target', error.description ?? 'The resource is not valid.')
    throw error
  }
  const refused = resources.find((resource) => !resourceAllowed(client, resource, deps.apis ?? EMPTY_CATALOG))
  if (refused !== undefined) fail('invalid_target', `The resource "${refused.slice(0, 200)}" is not allowed for this application.`)
  const dpopJkt = value('dpop_jkt')
  if (dpopJkt !== undefined && !JKT.test(dpopJkt)) fail('invalid_request', 'The dpop_jkt parameter must be a base64url SHA-256 JWK thumbprint (RFC 9449 §10).')

  const nonce = value('nonce')
  if (nonce !== undefined && nonce.length > MAX_NONCE) fail('invalid_request', `The nonce is longer than ${MAX_NONCE} characters.`)
  const prompt = new Set<Prompt>()
  for (const item of (value('prompt') ?? '').split(' ').filter((word) => word !== '')) {
    if (!PROMPTS.has(item)) fail('invalid_request', 'The prompt parameter has an unknown value.')
    // select_account: there is one account per session here, so choosing it is signing in again.
    prompt.add(item === 'select_account' ? 'login' : (item as Prompt))
  }
  if (prompt.has('none') && prompt.size > 1) fail('invalid_request', 'prompt=none cannot be combined with other values.')
  const maxAgeText = value('max_age')
  const maxAge = maxAgeText === undefined ? undefined : /^\d{1,9}$/.test(maxAgeText) ? Number(maxAgeText) : fail('invalid_request', 'The max_age parameter must be a whole number of seconds.')
  const loginHint = value('login_hint')

  const carried: Record<string, string> =
    pushedRequest !== undefined && requestUri !== undefined && requestUri !== 'repeated'
      ? { client_id: client.id, request_uri: requestUri }
      : Object.fromEntries([...parameters].map(([name, values]) => [name, values[0] ?? '']))
  return { client, redirectUri, state, scopes, resources, dpopJkt, nonce, codeChallenge: codeChallenge ?? '', prompt, maxAge, loginHint, pushedRequest, carried }
}
