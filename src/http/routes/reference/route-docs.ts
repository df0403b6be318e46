/**
 * OpenAPI descriptions of the dialect routes. These routes validate in their handlers (each
 * dialect has its own error shape), so their Fastify schemas stay empty: the documentation is
 * merged in only when /openapi.json is rendered and never validates or filters anything.
 */

/** The documenting-only part of a route schema, as @fastify/swagger reads it. */
export interface RouteDoc {
  tags: string[]
  summary: string
  description?: string
  consumes?: string[]
  produces?: string[]
  headers?: Record<string, unknown>
  body?: Record<string, unknown>
  querystring?: Record<string, unknown>
  response?: Record<string, unknown>
  security?: Record<string, string[]>[]
}

const FORM_AND_JSON = ['application/x-www-form-urlencoded', 'application/json']
const str = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', description, ...extra })

/** RFC 7523 §2.2 client authentication with a signed JWT (private_key_jwt), beside the secret methods. */
const clientAssertion = {
  client_assertion_type: str('private_key_jwt (RFC 7523 §2.2): urn:ietf:params:oauth:client-assertion-type:jwt-bearer, with client_assertion.', { enum: ['urn:ietf:params:oauth:client-assertion-type:jwt-bearer'] }),
  client_assertion: str('private_key_jwt: a JWT signed (ES256, RS256, PS256 or EdDSA) with a key the client registered: iss and sub the client id, aud the issuer or this endpoint\'s URL, exp at most 5 minutes ahead, a jti used once. Not with Basic or client_secret. A refused one is invalid_client.'),
}

const oauthError = {
  description: 'RFC 6749 §5.2 error.',
  type: 'object',
  properties: { error: str('invalid_request, invalid_client, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope, invalid_target (RFC 8707: the admin audience for a non-operator); at the device_code grant also authorization_pending, slow_down, access_denied, expired_token (RFC 8628 §3.5)'), error_description: { type: 'string' } },
  required: ['error'],
}

const tokenRequest = {
  type: 'object',
  properties: {
    grant_type: str('client_credentials, password, refresh_token, authorization_code or urn:ietf:params:oauth:grant-type:device_code (RFC 8628)', { enum: ['client_credentials', 'password', 'refresh_token', 'authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'] }),
    client_id: str('client_secret_post: the client id (or use HTTP Basic). A public client (token_endpoint_auth_method none) sends only this, no secret.'),
    client_secret: str('client_secret_post: the client secret (or use HTTP Basic).'),
    ...clientAssertion,
    scope: str('Space-separated scopes (RFC 6749 §3.3).'),
    audience: { type: 'string' },
    username: str('password grant'),
    password: str('password grant'),
    refresh_token: str('refresh_token grant'),
    code: str('authorization_code grant: the code the authorization endpoint answered (single use, 60 s).'),
    redirect_uri: str('authorization_code grant: the redirect_uri of the authorization request, the same string.'),
    code_verifier: str('authorization_code grant: the PKCE verifier (RFC 7636) whose S256 hash was the code_challenge.'),
    device_code: str('device_code grant (RFC 8628 §3.4): the device_code the device authorization endpoint answered. Until the person decides: authorization_pending, or slow_down when polled sooner than the interval (which then grows by 5 s); then access_denied or the tokens (once); expired_token after expires_in.'),
  },
  required: ['grant_type'],
}

const tokenResponse = {
  description: 'RFC 6749 §5.1 access token response.',
  type: 'object',
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string', enum: ['Bearer'] },
    expires_in: { type: 'integer' },
    refresh_token: { type: 'string' },
    scope: { type: 'string' },
    id_token: str('OpenID Connect: with the openid scope at the authorization_code and device_code grants.'),
  },
  required: ['access_token', 'token_type', 'expires_in'],
}

const deviceAuthorizationRequest = {
  type: 'object',
  properties: {
    client_id: str('A public client names itself with client_id only; a confidential one authenticates as at the token endpoint (HTTP Basic or client_secret_post).'),
    client_secret: str('client_secret_post: the client secret (or use HTTP Basic).'),
    ...clientAssertion,
    scope: str('Space-separated scopes (RFC 6749 §3.3); omitted: the client\'s defaults.'),
  },
}

const deviceAuthorizationResponse = {
  description: 'RFC 8628 §3.2 device authorization response.',
  type: 'object',
  properties: {
    device_code: str('256 random bits, base64url: what the device polls the token endpoint with.'),
    user_code: str('8 letters of BCDFGHJKLMNPQRSTVWXZ shown as XXXX-XXXX; case, dashes and spaces do not matter when typed.'),
    verification_uri: str('ISSUER/device: where the person types the user code.'),
    verification_uri_complete: str('ISSUER/device?user_code=XXXX-XXXX: the same page with the code filled in (for a link or a QR code).'),
    expires_in: { type: 'integer', description: 'Seconds both codes live: 600.' },
    interval: { type: 'integer', description: 'Seconds to wait between polls: 5.' },
  },
  required: ['device_code', 'user_code', 'verification_uri', 'verification_uri_complete', 'expires_in', 'interval'],
}

const tokenOnly = { type: 'object', properties: { token: str('The token.'), token_type_hint: { type: 'string', enum: ['access_token', 'refresh_token'] }, client_id: { type: 'string' }, client_secret: { type: 'string' }, ...clientAssertion }, required: ['token'] }

const introspection = {
  description: 'RFC 7662 §2.2.',
  type: 'object',
  properties: {
    active: { type: 'boolean' },
    scope: { type: 'string' },
    client_id: { type: 'string' },
    sub: { type: 'string' },
    aud: { type: 'string' },
    iss: { type: 'string' },
    exp: { type: 'integer' },
    iat: { type: 'integer' },
    jti: { type: 'string' },
    token_type: { type: 'string' },
  },
  required: ['active'],
}

const canaryTokens = {
  description: 'Canary tokens; `expiresIn` in seconds.',
  type: 'object',
  properties: { accessToken: { type: 'string' }, refreshToken: { type: 'string' }, expiresIn: { type: 'integer' } },
  required: ['accessToken', 'refreshToken'],
}
const apiKeyHeader = { type: 'object', properties: { 'csc-api-key': str('The API key, KEYID:SECRET.') }, required: ['csc-api-key'] }
const clientBasic: Record<string, string[]>[] = [{ clientBasic: [] }, {}]
const anyObject = { type: 'object', additionalProperties: true }

const docs: Record<string, RouteDoc> = {
  'POST /oauth/token': {
    tags: ['Standard (RFC 6749)'],
    summary: 'Token endpoint',
    description: 'RFC 6749 §3.2: client_credentials (§4.4), password (§4.3) and refresh_token (§6). Client authentication by HTTP Basic, client_secret_post or private_key_jwt (client_assertion).',
    consumes: FORM_AND_JSON,
    body: tokenRequest,
    security: clientBasic,
    response: { 200: tokenResponse, 400: oauthError, 401: oauthError },
  },
  'GET /oauth/token': {
    tags: ['Standard (RFC 6749)'],
    summary: 'Token endpoint by GET (off by default)',
    description: 'Answers 405 with Allow: POST unless the operator turned on GATEHOUSE_ALLOW_GET_TOKEN (seed 002 compatibility); then takes the parameters from the query string.',
    response: { 200: tokenResponse, 405: oauthError },
  },
  'POST /oauth/introspect': {
    tags: ['Standard (RFC 6749)'],
    summary: 'Token introspection (RFC 7662)',
    consumes: FORM_AND_JSON,
    body: tokenOnly,
    security: clientBasic,
    response: { 200: introspection, 400: oauthError, 401: oauthError },
  },
  'POST /oauth/par': {
    tags: ['Standard (RFC 6749)'],
    summary: 'Pushed authorization request (RFC 9126)',
    description: 'The authorization request\'s parameters, sent by the authenticated client; answers a request_uri to send to /oauth/authorize with client_id.',
    consumes: ['application/x-www-form-urlencoded'],
    body: { type: 'object', properties: { response_type: { type: 'string', enum: ['code'] }, redirect_uri: { type: 'string' }, code_challenge: { type: 'string' }, code_challenge_method: { type: 'string', enum: ['S256'] }, scope: { type: 'string' }, state: { type: 'string' }, nonce: { type: 'string' }, ...clientAssertion }, required: ['response_type', 'redirect_uri', 'code_challenge', 'code_challenge_method'] },
    security: clientBasic,
    response: { 201: { type: 'object', properties: { request_uri: { type: 'string' }, expires_in: { type: 'integer' } }, required: ['request_uri', 'expires_in'] }, 400: oauthError, 401: oauthError },
  },
  'POST /oauth/device_authorization': {
    tags: ['Standard (RFC 6749)'],
    summary: 'Device authorization endpoint (RFC 8628)',
    description: 'Starts the device authorization grant for a client that holds urn:ietf:params:oauth:grant-type:device_code: answers a device_code to poll /oauth/token with, and a user_code the person types at verification_uri. Errors as the token endpoint\'s (invalid_client 401, unauthorized_client, invalid_scope).',
    consumes: FORM_AND_JSON,
    body: deviceAuthorizationRequest,
    security: clientBasic,
    response: { 200: deviceAuthorizationResponse, 400: oauthError, 401: oauthError },
  },
  'GET /oauth/userinfo': { tags: ['Standard (RFC 6749)'], summary: 'OpenID Connect UserInfo: claims of the token\'s user', security: [{ bearerAuth: [] }], response: { 200: anyObject, 401: anyObject } },
  'POST /oauth/userinfo': { tags: ['Standard (RFC 6749)'], summary: 'OpenID Connect UserInfo (POST form)', security: [{ bearerAuth: [] }], response: { 200: anyObject, 401: anyObject } },
  'POST /oauth/revoke': {
    tags: ['Standard (RFC 6749)'],
    summary: 'Token revocation (RFC 7009)',
    consumes: FORM_AND_JSON,
    body: tokenOnly,
    security: clientBasic,
    response: { 200: { type: 'null', description: 'Revoked, or nothing to revoke (RFC 7009 §2.2).' }, 400: oauthError, 401: oauthError },
  },
  'GET /.well-known/oauth-authorization-server': { tags: ['Discovery'], summary: 'Authorization server metadata (RFC 8414)', response: { 200: anyObject } },
  'GET /.well-known/openid-configuration': { tags: ['Discovery'], summary: 'The same metadata at the OpenID Connect location', response: { 200: anyObject } },
  'GET /.well-known/jwks.json': { tags: ['Discovery'], summary: 'Public signing keys (RFC 7517 JWK set)', response: { 200: { type: 'object', properties: { keys: { type: 'array', items: anyObject } } } } },
  'GET /schemas/gatehouse.json': {
    tags: ['Operations'],
    summary: 'JSON Schema of gatehouse apply files',
    description: 'The schema of configuration-as-code files (`gatehouse apply -f`, `gatehouse export`; docs/config-as-code.md), for editors: `# yaml-language-server: $schema=<issuer>/schemas/gatehouse.json`. The same as schema/gatehouse.schema.json in the package, with its `$id` set to this URL.',
    produces: ['application/schema+json'],
    response: { 200: anyObject },
  },
  'GET /metrics': {
    tags: ['Operations'],
    summary: 'Prometheus metrics',
    description: 'Text exposition format. Needs `Authorization: Bearer <GATEHOUSE_METRICS_TOKEN>` when that token is set; off with GATEHOUSE_METRICS=false.',
    produces: ['text/plain'],
    response: { 200: { type: 'string', description: 'Prometheus text format 0.0.4.' } },
  },
  'GET /healthz': { tags: ['Operations'], summary: 'Liveness', response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } },
  'GET /readyz': { tags: ['Operations'], summary: 'Readiness: the database answers', response: { 200: { type: 'object', properties: { status: { type: 'string' } } }, 503: anyObject } },
  'POST /v2/oauth/request-tokens': {
    tags: ['Canary API keys'],
    summary: 'Exchange an API key for tokens (v2)',
    headers: apiKeyHeader,
    response: { 200: canaryTokens, 400: oauthError, 401: oauthError },
  },
  'POST /v2/oauth/refresh-tokens': {
    tags: ['Canary API keys'],
    summary: 'Refresh tokens (v2)',
    headers: { type: 'object', properties: { 'x-refresh-token': str('The refresh token (Csc-Refresh-Token also accepted).') } },
    response: { 200: canaryTokens, 400: oauthError, 401: oauthError },
  },
  'POST /v3/auth/tokens/get': {
    tags: ['Canary API keys'],
    summary: 'Exchange an API key for tokens (v3), optionally logging a user in',
    headers: apiKeyHeader,
    consumes: ['application/json'],
    body: { type: 'object', properties: { userPool: { type: 'string' }, projectId: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' } } },
    response: {
      200: { type: 'object', properties: { accessToken: { type: 'string' }, refreshToken: { type: 'string' }, identityIds: { type: 'object', properties: { clientId: { type: 'string' }, projectId: { type: 'string' }, subjectId: { type: 'string' } } } } },
      400: oauthError,
      401: oauthError,
    },
  },
  'POST /v3/auth/tokens/refresh': {
    tags: ['Canary API keys'],
    summary: 'Refresh tokens (v3)',
    headers: { type: 'object', properties: { 'csc-refresh-token': str('The refresh token.') }, required: ['csc-refresh-token'] },
    response: { 200: { type: 'object', properties: { accessToken: { type: 'string' }, refreshToken: { type: 'string' } } }, 400: oauthError, 401: oauthError },
  },
  'POST /connect/token': {
    tags: ['IdentityServer-style'],
    summary: 'Token endpoint, IdentityServer conventions',
    description: 'Form body only. Every error is HTTP 400. Scope omitted means all of the client\'s scopes; a refresh token only with offline_access.',
    consumes: ['application/x-www-form-urlencoded'],
    body: tokenRequest,
    security: clientBasic,
    response: { 200: tokenResponse, 400: oauthError },
  },
  'GET /connect/userinfo': { tags: ['IdentityServer-style'], summary: 'Claims of the token\'s user', security: [{ bearerAuth: [] }], response: { 200: anyObject, 401: anyObject } },
  'POST /connect/userinfo': { tags: ['IdentityServer-style'], summary: 'Claims of the token\'s user (POST form of userinfo)', security: [{ bearerAuth: [] }], response: { 200: anyObject, 401: anyObject } },
  'POST /connect/revocation': { tags: ['IdentityServer-style'], summary: 'Token revocation (RFC 7009)', consumes: ['application/x-www-form-urlencoded'], body: tokenOnly, security: clientBasic, response: { 200: { type: 'null', description: 'Revoked.' }, 400: oauthError } },
  'POST /connect/deviceauthorization': {
    tags: ['IdentityServer-style'],
    summary: 'Device authorization endpoint (RFC 8628), IdentityServer conventions',
    description: 'Form body only; every error is HTTP 400. Scope omitted means all of the client\'s scopes. Poll /connect/token with grant_type=urn:ietf:params:oauth:grant-type:device_code.',
    consumes: ['application/x-www-form-urlencoded'],
    body: deviceAuthorizationRequest,
    security: clientBasic,
    response: { 200: deviceAuthorizationResponse, 400: oauthError },
  },
  'POST /connect/introspect': { tags: ['IdentityServer-style'], summary: 'Token introspection (RFC 7662)', consumes: ['application/x-www-form-urlencoded'], body: tokenOnly, security: clientBasic, response: { 200: introspection, 400: oauthError } },
  'POST /v1/auth/token': {
    tags: ['Wrapped'],
    summary: 'Token endpoint with a wrapped answer',
    consumes: FORM_AND_JSON,
    body: { type: 'object', properties: { client_id: { type: 'string' }, client_secret: { type: 'string' }, ...clientAssertion, grant_type: { type: 'string', enum: ['client_credentials'] } }, description: 'client_id and client_secret, or a client_assertion (private_key_jwt).' },
    response: {
      200: { type: 'object', properties: { data: { type: 'object', properties: { access_token: { type: 'string' }, token_type: { type: 'string' }, expires_in: { type: 'integer' } } } } },
      400: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'integer' }, code_reason: { type: 'string' }, message: { type: 'string' } } } } },
      401: { type: 'object', properties: { error: anyObject } },
    },
  },
}

/** The doc of a route that has no schema of its own; a generic one for routes nobody described yet. */
export function documentRoute(method: string, url: string): RouteDoc {
  const known = docs[`${method} ${url}`]
  if (known) return known
  const area = url.startsWith('/connect/') ? 'IdentityServer-style' : url.startsWith('/v1/') ? 'Wrapped' : /^\/v[23]\//.test(url) ? 'Canary API keys' : 'Other'
  return { tags: [area], summary: `${method} ${url}`, response: { 200: anyObject } }
}
