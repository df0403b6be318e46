import { snippet } from './generate.js'
import type { SnippetLanguageId } from './languages.js'
import { basicAuthorization, type SnippetRequest } from './request.js'

/** What the console knows of a client when it shows "Get a token". */
export interface TokenRequestClient {
  clientId: string
  /** The secret when it is shown (once); otherwise a placeholder the reader replaces. */
  clientSecret?: string
  authMethod: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none'
  /** Absolute URL of the token endpoint. */
  tokenEndpoint: string
  /** Default client_credentials; password adds username and password placeholders. */
  grantType?: 'client_credentials' | 'password'
  scope?: string
}

/** Where a private_key_jwt client's code puts its signed JWT (RFC 7523 §2.2). */
export const ASSERTION_PLACEHOLDER = 'YOUR_SIGNED_JWT'
export const SECRET_PLACEHOLDER = 'YOUR_CLIENT_SECRET'
export const API_KEY_PLACEHOLDER = 'YOUR_API_KEY'

/** The token request of a client as one request: the credentials where its auth method puts them. */
export function tokenRequest(client: TokenRequestClient): SnippetRequest {
  const form: Record<string, string> = { grant_type: client.grantType ?? 'client_credentials' }
  if (client.grantType === 'password') Object.assign(form, { username: 'YOUR_USERNAME', password: 'YOUR_PASSWORD' })
  if (client.scope) form.scope = client.scope
  const secret = client.clientSecret ?? SECRET_PLACEHOLDER
  const headers: [string, string][] = []
  if (client.authMethod === 'client_secret_basic') headers.push(['Authorization', basicAuthorization(client.clientId, secret)])
  else if (client.authMethod === 'client_secret_post') Object.assign(form, { client_id: client.clientId, client_secret: secret })
  else if (client.authMethod === 'none') form.client_id = client.clientId
  else Object.assign(form, { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: ASSERTION_PLACEHOLDER })
  return { method: 'POST', url: client.tokenEndpoint, headers, body: { form } }
}

/** An API key's exchange for a token: the Canary-style dialect reads it from one header, with no body. */
export function apiKeyTokenRequest(apiKey: string | undefined, endpoint: string): SnippetRequest {
  return { method: 'POST', url: endpoint, headers: [['Csc-Api-Key', apiKey ?? API_KEY_PLACEHOLDER]] }
}

/**
 * "Get a token" for a client, in one language, from the same generator as the API reference.
 *
 * @example
 * tokenRequestSnippet({ clientId: 'c-1', clientSecret: 's3cret', authMethod: 'client_secret_basic', tokenEndpoint: 'https://auth.example.com/oauth/token' }, 'curl')
 * // curl --request POST \
 * //   --url https://auth.example.com/oauth/token \
 * //   --header 'Authorization: Basic Yy0xOnMzY3JldA==' …
 */
export function tokenRequestSnippet(client: TokenRequestClient, id: SnippetLanguageId = 'curl'): string {
  return snippet(tokenRequest(client), id)
}
