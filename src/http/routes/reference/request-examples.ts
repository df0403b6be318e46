/**
 * A request example on every operation of /openapi.json (OpenAPI 3.1 `example` on parameters,
 * `examples` on request bodies): Scalar fills its "try it" form with them, and code-samples.ts
 * writes every snippet from them. The token endpoints and the main management calls have
 * examples written by hand; every other operation gets one derived from its schema.
 *
 * Placeholders in capitals (CLIENT_ID, CLIENT_SECRET, API_KEY, …) are what a reader replaces;
 * the snippet test (test/reference/snippets-run.test.ts) replaces them with real credentials.
 */

export interface RequestExample {
  summary: string
  /** Values of path, query and header parameters, by parameter name. */
  parameters?: Record<string, string>
  /** The body, the same for each media type the operation accepts (form values are strings). */
  body?: Record<string, unknown>
}

export const PLACEHOLDERS = {
  clientId: 'CLIENT_ID',
  clientSecret: 'CLIENT_SECRET',
  apiKey: 'API_KEY',
  refreshToken: 'REFRESH_TOKEN',
  accessToken: 'ACCESS_TOKEN',
} as const

const clientCredentials = { grant_type: 'client_credentials', client_id: PLACEHOLDERS.clientId, client_secret: PLACEHOLDERS.clientSecret, scope: 'api' }
const withToken = { token: PLACEHOLDERS.accessToken, client_id: PLACEHOLDERS.clientId, client_secret: PLACEHOLDERS.clientSecret }

/** Keyed `METHOD /openapi/path`; the dialects' default paths (a moved dialect gets derived examples). */
const WRITTEN: Record<string, RequestExample> = {
  'POST /oauth/token': { summary: 'client_credentials with client_secret_post (RFC 6749 §4.4.2)', body: clientCredentials },
  'GET /oauth/token': { summary: 'client_credentials by GET (only with GATEHOUSE_ALLOW_GET_TOKEN)', parameters: { grant_type: 'client_credentials' } },
  'POST /oauth/introspect': { summary: 'Introspect an access token (RFC 7662 §2.1)', body: withToken },
  'POST /oauth/revoke': { summary: 'Revoke a refresh token (RFC 7009 §2.1)', body: { ...withToken, token: PLACEHOLDERS.refreshToken, token_type_hint: 'refresh_token' } },
  'POST /oauth/device_authorization': { summary: 'A public client starts the device grant (RFC 8628 §3.1)', body: { client_id: PLACEHOLDERS.clientId, scope: 'openid profile' } },
  'POST /oauth/par': {
    summary: 'Push an authorization request (RFC 9126 §2.1)',
    body: { response_type: 'code', client_id: PLACEHOLDERS.clientId, client_secret: PLACEHOLDERS.clientSecret, redirect_uri: 'https://app.example.com/callback', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', scope: 'openid profile' },
  },
  'POST /v2/oauth/request-tokens': { summary: 'Exchange an API key for tokens', parameters: { 'csc-api-key': PLACEHOLDERS.apiKey } },
  'POST /v2/oauth/refresh-tokens': { summary: 'Refresh (the refresh token rotates)', parameters: { 'x-refresh-token': PLACEHOLDERS.refreshToken } },
  'POST /v3/auth/tokens/get': { summary: 'Exchange an API key for tokens', parameters: { 'csc-api-key': PLACEHOLDERS.apiKey }, body: {} },
  'POST /v3/auth/tokens/refresh': { summary: 'Refresh (the refresh token rotates)', parameters: { 'csc-refresh-token': PLACEHOLDERS.refreshToken } },
  'POST /connect/token': { summary: 'client_credentials, IdentityServer conventions', body: clientCredentials },
  'POST /connect/introspect': { summary: 'Introspect an access token', body: withToken },
  'POST /connect/revocation': { summary: 'Revoke a refresh token', body: { ...withToken, token: PLACEHOLDERS.refreshToken, token_type_hint: 'refresh_token' } },
  'POST /connect/deviceauthorization': { summary: 'A public client starts the device grant', body: { client_id: PLACEHOLDERS.clientId, scope: 'openid profile' } },
  'POST /v1/auth/token': { summary: 'client_credentials, wrapped answer', body: { grant_type: 'client_credentials', client_id: PLACEHOLDERS.clientId, client_secret: PLACEHOLDERS.clientSecret } },
  'POST /admin/v1/clients': { summary: 'A machine-to-machine client', body: { name: 'Order sync', grant_types: ['client_credentials'], scopes: ['orders:read', 'orders:write'] } },
  'PATCH /admin/v1/clients/{clientId}': { summary: 'Rename a client', body: { name: 'Order sync (EU)' } },
  'POST /admin/v1/api-keys': { summary: 'An API key of a client', body: { client_id: PLACEHOLDERS.clientId, name: 'CI pipeline' } },
  'POST /admin/v1/apis': { summary: 'Register an API and its scopes', body: { identifier: 'https://orders.example.com/', name: 'Orders API', scopes: [{ name: 'orders:read', description: 'Read your orders', self_service: true }] } },
  'PATCH /admin/v1/apis/{apiId}': { summary: 'Rename an API', body: { name: 'Orders API v2' } },
  'POST /admin/v1/users': { summary: 'A user of the password grant and the console', body: { username: 'dev@example.com', password: 'a-long-passphrase', name: 'Dev' } },
  'PUT /admin/v1/users/{userId}/password': { summary: 'Set a new password', body: { password: 'a-new-long-passphrase' } },
  'POST /admin/v1/signing-keys/rotate': { summary: 'Rotate the ES256 key', body: { alg: 'ES256' } },
  'PUT /admin/v1/operators/{kind}/{subjectId}': { summary: 'Make a user an operator', parameters: { kind: 'user', subjectId: 'dev@example.com' }, body: { role: 'read-only' } },
}

export interface JsonSchema {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  enum?: unknown[]
  const?: unknown
  default?: unknown
  examples?: unknown[]
  items?: JsonSchema
  format?: string
}

export interface Parameter {
  name: string
  in: 'path' | 'query' | 'header' | 'cookie'
  required?: boolean
  schema?: JsonSchema
  example?: unknown
}

export interface Operation {
  parameters?: Parameter[]
  requestBody?: { content?: Record<string, { schema?: JsonSchema; examples?: Record<string, { summary?: string; value: unknown }> }> }
  security?: Record<string, string[]>[]
  'x-codeSamples'?: unknown
  [key: string]: unknown
}

export type Paths = Record<string, Record<string, Operation>>

/** CLIENT_ID for clientId, KEY_ID for keyId: a placeholder a reader sees as one. */
const placeholder = (name: string): string => name.replace(/([a-z])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()

/** A value of a schema: its own example, default, first enum value, or a typed placeholder. */
export function exampleValue(name: string, schema: JsonSchema = {}): unknown {
  if (schema.examples?.length) return schema.examples[0]
  if (schema.const !== undefined) return schema.const
  if (schema.default !== undefined && schema.default !== null) return schema.default
  if (schema.enum?.length) return schema.enum.find((value) => value !== null)
  const type = Array.isArray(schema.type) ? schema.type.find((entry) => entry !== 'null') : schema.type
  if (type === 'object') {
    const required = schema.required ?? []
    return Object.fromEntries(required.map((key) => [key, exampleValue(key, schema.properties?.[key])]))
  }
  if (type === 'array') return [exampleValue(name, schema.items)]
  if (type === 'integer' || type === 'number') return 1
  if (type === 'boolean') return true
  if (schema.format === 'uri') return 'https://app.example.com/callback'
  return placeholder(name)
}

/** The example of one operation: written by hand, or its required parameters and body fields. */
export function requestExample(method: string, path: string, operation: Operation): RequestExample {
  const written = WRITTEN[`${method.toUpperCase()} ${path}`]
  const parameters: Record<string, string> = {}
  for (const parameter of operation.parameters ?? []) {
    if (parameter.in === 'cookie') continue
    const value = written?.parameters?.[parameter.name] ?? (parameter.required ? exampleValue(parameter.name, parameter.schema) : undefined)
    if (value !== undefined) parameters[parameter.name] = String(value)
  }
  const content = operation.requestBody?.content
  const first = content ? Object.values(content)[0] : undefined
  const body = written?.body ?? (first ? (exampleValue('body', first.schema ?? { type: 'object' }) as Record<string, unknown> | undefined) ?? {} : undefined)
  return { summary: written?.summary ?? 'Example', parameters, ...(body !== undefined && content ? { body } : {}) }
}

/** Writes each operation's example into the document, where Scalar and code-samples.ts read it. */
export function addRequestExamples(paths: Paths): void {
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (method === 'parameters') continue
      const example = requestExample(method, path, operation)
      for (const parameter of operation.parameters ?? []) {
        const value = example.parameters?.[parameter.name]
        if (value !== undefined) parameter.example = value
      }
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        if (example.body !== undefined) media.examples = { example: { summary: example.summary, value: example.body } }
      }
    }
  }
}
