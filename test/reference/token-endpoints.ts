import assert from 'node:assert/strict'
import { exampleRequest } from '../../src/http/routes/reference/code-samples.js'
import type { Operation, Paths } from '../../src/http/routes/reference/request-examples.js'
import type { SnippetRequest } from '../../src/snippets/index.js'
import type { TestServer } from '../helpers/server.js'
import { request } from '../helpers/http.js'

/** Every token endpoint of every dialect (docs/dialects.md), as /openapi.json describes it. */
export interface TokenEndpoint {
  name: string
  path: string
  mediaType?: string
  /** A refresh endpoint needs a fresh refresh token for each run (they rotate). */
  refresh?: 'v2' | 'v3'
  check(body: unknown): void
}

const jwt = /^[\w-]+\.[\w-]+\.[\w-]+$/
const rfc6749 = (body: unknown) => {
  const answer = body as Record<string, unknown>
  assert.deepEqual(Object.keys(answer).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
  assert.match(String(answer.access_token), jwt)
  assert.deepEqual([answer.token_type, typeof answer.expires_in, answer.scope], ['Bearer', 'number', 'api'])
}
const canary = (body: unknown) => {
  const answer = body as Record<string, unknown>
  assert.deepEqual(Object.keys(answer).sort(), ['accessToken', 'expiresIn', 'refreshToken'])
  assert.match(String(answer.accessToken), jwt)
  assert.equal(typeof answer.refreshToken, 'string')
}

export const TOKEN_ENDPOINTS: readonly TokenEndpoint[] = [
  { name: 'standard-form', path: '/oauth/token', mediaType: 'application/x-www-form-urlencoded', check: rfc6749 },
  { name: 'standard-json', path: '/oauth/token', mediaType: 'application/json', check: rfc6749 },
  { name: 'identityserver', path: '/connect/token', check: rfc6749 },
  { name: 'canary-v2', path: '/v2/oauth/request-tokens', check: canary },
  { name: 'canary-v2-refresh', path: '/v2/oauth/refresh-tokens', refresh: 'v2', check: canary },
  {
    name: 'canary-v3',
    path: '/v3/auth/tokens/get',
    check: (body) => {
      const answer = body as { accessToken: string; refreshToken: string; identityIds: Record<string, unknown> }
      assert.deepEqual(Object.keys(answer).sort(), ['accessToken', 'identityIds', 'refreshToken'])
      assert.match(answer.accessToken, jwt)
    },
  },
  {
    name: 'canary-v3-refresh',
    path: '/v3/auth/tokens/refresh',
    refresh: 'v3',
    check: (body) => {
      const answer = body as Record<string, unknown>
      assert.deepEqual(Object.keys(answer).sort(), ['accessToken', 'refreshToken'])
      assert.match(String(answer.accessToken), jwt)
    },
  },
  ...(['application/x-www-form-urlencoded', 'application/json'] as const).map((mediaType) => ({
    name: `wrapped-${mediaType.endsWith('json') ? 'json' : 'form'}`,
    path: '/v1/auth/token',
    mediaType,
    check: (body: unknown) => {
      const answer = body as { data: Record<string, unknown> }
      assert.deepEqual(Object.keys(answer), ['data'])
      assert.deepEqual(Object.keys(answer.data).sort(), ['access_token', 'expires_in', 'token_type'])
      assert.deepEqual([answer.data.token_type, typeof answer.data.expires_in], ['Bearer', 'number'])
    },
  })),
]

/** Real credentials for the placeholders of the examples, and fresh refresh tokens. */
export interface Credentials {
  clientId: string
  clientSecret: string
  apiKey: string
}

export async function createCredentials(server: TestServer): Promise<Credentials> {
  const client = await server.createClient({ grantTypes: ['client_credentials'], scopes: ['api'] })
  const { apiKey } = await server.server.gatehouse.apiKeys.create({ name: 'snippets', scopes: ['api'] })
  return { clientId: client.id, clientSecret: client.secret, apiKey }
}

export async function freshRefreshToken(server: TestServer, credentials: Credentials, kind: 'v2' | 'v3'): Promise<string> {
  const answer = kind === 'v2'
    ? await request(`${server.url}/v2/oauth/request-tokens`, { method: 'POST', headers: { 'csc-api-key': credentials.apiKey } })
    : await request(`${server.url}/v3/auth/tokens/get`, { json: {}, headers: { 'csc-api-key': credentials.apiKey } })
  assert.equal(answer.status, 200, answer.text)
  return (answer.body as { refreshToken: string }).refreshToken
}

/** The endpoint's request as the reference documents it, its placeholders replaced by real values. */
export function endpointRequest(document: { paths: Paths }, server: TestServer, endpoint: TokenEndpoint, values: Credentials & { refreshToken?: string }): SnippetRequest {
  const operation = document.paths[endpoint.path]?.post as Operation | undefined
  assert.ok(operation, `${endpoint.path} is documented`)
  const substitute: Record<string, string> = { CLIENT_ID: values.clientId, CLIENT_SECRET: values.clientSecret, API_KEY: values.apiKey, ...(values.refreshToken ? { REFRESH_TOKEN: values.refreshToken } : {}) }
  return exampleRequest(server.config.issuer, endpoint.path, 'post', operation, { substitute, ...(endpoint.mediaType ? { mediaType: endpoint.mediaType } : {}) })
}
