/**
 * JSON schemas of the management API. Fastify validates bodies and queries with them and
 * serialises answers with them; @fastify/swagger turns the same objects into /openapi.json.
 * Record schemas allow additional properties, so a field added to a presenter is never
 * silently dropped from an answer.
 */
import { MAX_API_KEY_LIFETIME_SECONDS } from '../../../core/admin/api-key-admin.js'
import { CLIENT_AUTH_METHODS, MAX_REDIRECT_URIS } from '../../../core/admin/client-admin.js'
import { MAX_JWKS_KEYS } from '../../../core/credentials/client-jwks.js'
import { APPLICATION_TYPES, GRANT_TYPES, SIGNING_ALGS } from '../../../core/types.js'

const nullableString = { type: ['string', 'null'] } as const
const time = { type: 'string', format: 'date-time' } as const
const seconds = { type: 'integer', minimum: 1 } as const
const stringList = { type: 'array', items: { type: 'string', minLength: 1, pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' } } as const

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 7807 problem details (content type application/problem+json).',
  properties: {
    type: { type: 'string', examples: ['urn:gatehouse:problem:not-found'] },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
  },
  required: ['type', 'title', 'status', 'detail'],
} as const

export const clientSchema = {
  $id: 'Client',
  type: 'object',
  additionalProperties: true,
  properties: {
    client_id: { type: 'string' },
    name: { type: 'string' },
    application_type: { type: ['string', 'null'], enum: [...APPLICATION_TYPES, null], description: 'What kind of application it is (chooses console defaults only); null: not said.' },
    token_endpoint_auth_method: { type: 'string', enum: CLIENT_AUTH_METHODS, description: '`none`: a public client, without a secret. `private_key_jwt`: no secret either; it signs assertions with a key of `jwks` or `jwks_uri`.' },
    jwks: {
      anyOf: [{ type: 'object', additionalProperties: true, properties: { keys: { type: 'array', items: { type: 'object', additionalProperties: true } } } }, { type: 'null' }],
      description: 'A private_key_jwt client\'s public keys (a JWK Set, RFC 7517 §5); null otherwise.',
    },
    jwks_uri: { ...nullableString, description: 'Where a private_key_jwt client publishes its public keys; null otherwise.' },
    grant_types: { type: 'array', items: { type: 'string', enum: GRANT_TYPES } },
    redirect_uris: { type: 'array', items: { type: 'string' } },
    post_logout_redirect_uris: { type: 'array', items: { type: 'string' } },
    require_par: { type: 'boolean' },
    require_dpop: { type: 'boolean' },
    skip_consent: { type: 'boolean' },
    scopes: { type: 'array', items: { type: 'string' } },
    default_scopes: { type: 'array', items: { type: 'string' } },
    audience: nullableString,
    resources: { type: 'array', items: { type: 'string' }, description: 'Further resources (RFC 8707) it may ask for with resource or audience.' },
    allow_impersonation: { type: 'boolean', description: 'It may exchange a token without an actor_token (RFC 8693).' },
    token_format: { type: 'string', enum: ['jwt', 'opaque'] },
    signing_alg: { type: 'string', enum: SIGNING_ALGS, description: 'JWS algorithm of its JWT access tokens (RFC 9068 §2.1).' },
    access_token_ttl: { type: 'integer' },
    refresh_token_ttl: { type: 'integer' },
    refresh_token_sliding_ttl: { type: 'integer' },
    refresh_reuse_interval: { type: 'integer' },
    token_reuse_seconds: { type: 'integer' },
    rotate_refresh_tokens: { type: 'boolean' },
    allowed_users: { type: ['array', 'null'], items: { type: 'string' }, description: 'User ids the password grant may log in; null: any user.' },
    created_at: time,
    updated_at: time,
  },
  required: ['client_id', 'name', 'token_endpoint_auth_method', 'grant_types', 'redirect_uris', 'scopes', 'token_format', 'signing_alg', 'access_token_ttl', 'created_at', 'updated_at'],
} as const

const redirectUriList = (what: string) =>
  ({
    type: 'array',
    items: { type: 'string', minLength: 1, maxLength: 2000 },
    maxItems: MAX_REDIRECT_URIS,
    description: `${what} Absolute URIs without a fragment, compared as exact strings: https, http only on a loopback host (127.0.0.1, [::1], localhost; RFC 8252 §7.3), or a private-use scheme that is a reversed domain name such as com.example.app:/cb (RFC 8252 §7.1). An update replaces the list.`,
  }) as const

const clientSettingProperties = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  token_endpoint_auth_method: {
    type: 'string',
    enum: CLIENT_AUTH_METHODS,
    description:
      'How it authenticates at the token endpoint (RFC 7591 §2); default client_secret_basic. `none` makes a public client (an SPA, a native app, a CLI): no secret is made, and it may use only authorization_code, refresh_token and the device grant. A confidential client may send its secret either way, whichever it registered. `private_key_jwt` (RFC 7523 §2.2) makes no secret either: the client signs a short-lived assertion with a key of `jwks` or `jwks_uri`. Public and confidential cannot be swapped later; a confidential client may move between the secret methods and `private_key_jwt` (moving to it ends the secret; moving away drops the keys, and `POST /clients/{id}/secret` then makes a secret).',
  },
  jwks: {
    // One type list, not anyOf: a refusal then names the one problem ("body/jwks must be object,null").
    type: ['object', 'null'],
    additionalProperties: true,
    required: ['keys'],
    properties: {
      keys: { type: 'array', minItems: 1, maxItems: MAX_JWKS_KEYS, items: { type: 'object', additionalProperties: true, required: ['kty'], properties: { kty: { type: 'string' } } } },
    },
    description:
      'For `private_key_jwt`: the client\'s public keys, a JWK Set (RFC 7517 §5) of EC P-256 (ES256), RSA of 2048 bits or more (RS256, PS256) or Ed25519 (EdDSA) keys. Private members (`d`, `p`, `q`, `dp`, `dq`, `qi`, `k`) and symmetric keys (`kty: oct`) are refused. Exactly one of `jwks` and `jwks_uri`; giving one on an update drops the other. null removes it.',
  },
  jwks_uri: {
    type: ['string', 'null'],
    minLength: 1,
    maxLength: 2000,
    description:
      'For `private_key_jwt`: where the client publishes its JWK Set. https (plain http only outside production); fetched with a 3 s timeout and a 64 KiB limit, no redirects followed, cached 5 minutes, fetched again on an unknown `kid` at most once a minute.',
  },
  application_type: { type: ['string', 'null'], enum: [...APPLICATION_TYPES, null], description: 'web, spa, native, device, machine or api_key; a label for people and the console, it grants nothing.' },
  grant_types: { type: 'array', items: { type: 'string', enum: GRANT_TYPES }, minItems: 1, description: 'Grants the client may use; authorization_code needs a redirect URI. The device grant is urn:ietf:params:oauth:grant-type:device_code.' },
  redirect_uris: redirectUriList('Where authorization answers may go.'),
  post_logout_redirect_uris: redirectUriList('Where RP-initiated logout may send the browser back to.'),
  require_par: { type: 'boolean', description: 'Authorization requests must come through /oauth/par (RFC 9126).' },
  require_dpop: { type: 'boolean', description: 'Every token request must carry a DPoP proof (RFC 9449); without one: invalid_dpop_proof.' },
  skip_consent: { type: 'boolean', description: 'A first-party client: users are not asked to consent.' },
  scopes: { ...stringList, description: 'Scopes the client may ask for.' },
  default_scopes: { ...stringList, description: 'Scopes granted when a request names none; empty means all allowed.' },
  audience: { type: ['string', 'null'], minLength: 1, description: 'The aud claim of its tokens; null means the issuer. The default resource (RFC 8707).' },
  resources: {
    type: 'array',
    items: { type: 'string', minLength: 1, maxLength: 2000 },
    maxItems: 20,
    description:
      'Further resources (RFC 8707 §2: absolute URIs without a fragment) the client may ask for with `resource` (or `audience`); besides these, its own `audience` and every registered API of which it holds a scope. At token exchange (RFC 8693) they are also the APIs it acts as. An update replaces the list.',
  },
  allow_impersonation: { type: 'boolean', description: 'RFC 8693: it may exchange a subject token without an actor_token (impersonation; the new token\'s act names this client). Default false: an exchange needs an actor_token.' },
  token_format: { type: 'string', enum: ['jwt', 'opaque'] },
  signing_alg: { type: 'string', enum: SIGNING_ALGS, description: 'JWS algorithm of its JWT access tokens: ES256 (the default) or RS256 (RFC 9068 §2.1).' },
  access_token_ttl: { ...seconds, description: 'Access token lifetime in seconds.' },
  refresh_token_ttl: { ...seconds, description: 'Refresh token absolute lifetime in seconds.' },
  refresh_token_sliding_ttl: { ...seconds, description: 'Refresh token sliding lifetime in seconds.' },
  refresh_reuse_interval: { type: 'integer', minimum: 0, maximum: 300 },
  token_reuse_seconds: { type: 'integer', minimum: 0, maximum: 3600, description: 'client_credentials token reuse window in seconds; 0 (the default) is off. Instance-local.' },
  rotate_refresh_tokens: { type: 'boolean' },
  allowed_users: {
    type: ['array', 'null'],
    items: { type: 'string', minLength: 1, maxLength: 320 },
    maxItems: 1000,
    description: 'Users (ids or usernames; stored as ids) the password grant may log in through this client; null: any user.',
  },
} as const

export const clientCreateSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { client_id: { type: 'string', minLength: 1, maxLength: 200, description: 'An id to use instead of a generated one.' }, ...clientSettingProperties },
  required: ['name'],
} as const

export const clientUpdateSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: clientSettingProperties,
} as const

export const clientWithSecretSchema = {
  type: 'object',
  additionalProperties: true,
  properties: { ...clientSchema.properties, client_secret: { type: 'string', description: 'Shown only in this answer. Absent for a public client (auth method none) and a private_key_jwt one, which have no secret.' } },
  required: clientSchema.required,
} as const

export const apiKeySchema = {
  $id: 'ApiKey',
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string', pattern: '^[0-9A-F]{6}$' },
    name: { type: 'string' },
    client_id: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    audience: nullableString,
    expires_at: { type: ['string', 'null'], format: 'date-time' },
    revoked_at: { type: ['string', 'null'], format: 'date-time' },
    created_at: time,
  },
  required: ['id', 'name', 'client_id', 'scopes', 'created_at'],
} as const

export const apiKeyCreateSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    client_id: { type: 'string', minLength: 1, description: 'Owner client (must allow the api_key grant); default: a new client for this key.' },
    scopes: stringList,
    audience: { type: ['string', 'null'], minLength: 1 },
    expires_in: { ...seconds, maximum: MAX_API_KEY_LIFETIME_SECONDS, description: 'Lifetime in seconds, at most 315360000 (10 years); default: no expiry.' },
  },
  required: ['name'],
} as const

export const userSchema = {
  $id: 'User',
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    username: { type: 'string' },
    name: nullableString,
    email: nullableString,
    disabled: { type: 'boolean' },
    created_at: time,
  },
  required: ['id', 'username', 'disabled', 'created_at'],
} as const

const password = { type: 'string', minLength: 8, maxLength: 1024, description: 'At least 8 characters (NIST SP 800-63B).' } as const

export const userCreateSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { username: { type: 'string', minLength: 3, maxLength: 320, description: 'An email address.' }, password, name: { type: ['string', 'null'], maxLength: 200 } },
  required: ['username', 'password'],
} as const

export const passwordSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { password },
  required: ['password'],
} as const

export const signingKeySchema = {
  $id: 'SigningKey',
  type: 'object',
  additionalProperties: true,
  properties: {
    kid: { type: 'string' },
    alg: { type: 'string', enum: SIGNING_ALGS },
    active: { type: 'boolean', description: 'Signs new tokens of its algorithm.' },
    published: { type: 'boolean', description: 'Listed in the JWKS.' },
    created_at: time,
    retired_at: { type: ['string', 'null'], format: 'date-time' },
  },
  required: ['kid', 'alg', 'active', 'published', 'created_at', 'retired_at'],
} as const

export const auditEventSchema = {
  $id: 'AuditEvent',
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    at: time,
    actor: { type: 'string', examples: ['client:gatehouse-operator', 'anonymous'] },
    action: { type: 'string', examples: ['client.created', 'client.authentication_failed'] },
    target: nullableString,
    ip: nullableString,
    details: { type: 'object', additionalProperties: true },
  },
  required: ['id', 'at', 'actor', 'action', 'target', 'ip', 'details'],
} as const

const scopeName = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' } as const

const apiScopeProperties = {
  name: { ...scopeName, description: 'Unique across the whole registry.' },
  description: { type: 'string', minLength: 1, maxLength: 500, description: 'What the scope allows, in words a person can read.' },
  self_service: { type: 'boolean', description: 'True: developers may take it in the console. False: only operators grant it.' },
} as const

export const apiSchema = {
  $id: 'Api',
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    identifier: { type: 'string', description: 'Absolute URL; the aud of tokens for this API.' },
    name: { type: 'string' },
    scopes: { type: 'array', items: { type: 'object', additionalProperties: true, properties: apiScopeProperties, required: ['name', 'description', 'self_service'] } },
    created_at: time,
    updated_at: time,
  },
  required: ['id', 'identifier', 'name', 'scopes', 'created_at', 'updated_at'],
} as const

const apiSettingProperties = {
  identifier: { type: 'string', minLength: 1, maxLength: 2000, description: 'Absolute http(s) URL without a fragment (RFC 8707 §2); the aud of tokens for this API.' },
  name: { type: 'string', minLength: 1, maxLength: 200 },
  scopes: {
    type: 'array',
    minItems: 1,
    maxItems: 500,
    description: 'The whole scope list (an update replaces it).',
    items: { type: 'object', additionalProperties: false, properties: apiScopeProperties, required: ['name', 'description'] },
  },
} as const

export const apiCreateSchema = { type: 'object', additionalProperties: false, properties: apiSettingProperties, required: ['identifier', 'name', 'scopes'] } as const

export const apiUpdateSchema = { type: 'object', additionalProperties: false, minProperties: 1, properties: apiSettingProperties } as const

export const pageQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
    after: { type: 'string', description: 'Cursor: the next_after of the previous page.' },
  },
} as const

export const apiKeyQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { ...pageQuerySchema.properties, client_id: { type: 'string', description: 'Only keys of this client.' } },
} as const

export const auditQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
    cursor: { type: 'string', description: 'The next_cursor of the previous page.' },
    actor: { type: 'string', description: 'e.g. client:ID, user:ID or anonymous.' },
    action: { type: 'string', description: 'e.g. client.created.' },
    target: { type: 'string', description: 'e.g. client:ID.' },
    from: { type: 'string', format: 'date-time', description: 'Events at or after this time.' },
    to: { type: 'string', format: 'date-time', description: 'Events before this time.' },
  },
} as const

export const idParams = (name: string, description: string) =>
  ({ type: 'object', properties: { [name]: { type: 'string', description } }, required: [name] }) as const

export const operatorSchema = {
  $id: 'Operator',
  type: 'object',
  additionalProperties: true,
  description: 'An identity on the operator list: it may get tokens for the admin audience and use the management API.',
  properties: {
    kind: { type: 'string', enum: ['user', 'client'] },
    id: { type: 'string', description: 'The user id or client id.' },
    role: { type: 'string', enum: ['admin', 'read-only'] },
    created_at: time,
  },
  required: ['kind', 'id', 'role', 'created_at'],
} as const

export const SHARED_SCHEMAS = [problemSchema, clientSchema, apiKeySchema, apiSchema, userSchema, signingKeySchema, auditEventSchema, operatorSchema] as const

/** The error answers every management operation may give. */
export const problemResponses = {
  400: { $ref: 'Problem#', description: 'Invalid request (RFC 7807).' },
  401: { $ref: 'Problem#', description: 'No bearer token, or one that is invalid, expired, revoked, of another issuer or not for the admin audience; the detail says which.' },
  403: { $ref: 'Problem#', description: 'The token subject is not an operator, or a read-only operator asked to change something.' },
} as const
