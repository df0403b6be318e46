import { OAuthError } from './errors.js'
import type { Client, DialectPolicy } from './types.js'

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/**
 * OpenID Connect Core §5.4 and §11: the standard user scopes. Not API scopes: they cannot be
 * registered for an API, and a console application may always take them.
 */
export const OPENID_SCOPES: readonly string[] = ['openid', 'profile', 'email', 'offline_access']

/** Scopes that only make sense for a user; a client acting for itself cannot have them. */
export const USER_ONLY_SCOPES: ReadonlySet<string> = new Set(['openid', 'offline_access'])

export function parseScope(scope: string | undefined): string[] | undefined {
  if (scope === undefined) return undefined
  const tokens = scope.split(' ').filter((token) => token !== '')
  if (tokens.length === 0) return undefined
  for (const token of tokens) {
    if (!SCOPE_TOKEN.test(token)) throw new OAuthError('invalid_scope', { description: 'The scope parameter is malformed.' })
  }
  return tokens.length === 1 ? tokens : [...new Set(tokens)].sort()
}

/**
 * Decides the granted scopes (RFC 6749 §3.3): every requested scope must be allowed for the
 * client; none requested means the client's defaults (or, under IdentityServer's rule, all
 * it is allowed). `forUser` is false for client_credentials, which cannot carry user scopes.
 */
export function grantScopes(input: {
  requested: string | undefined
  client: Client
  policy: DialectPolicy
  forUser: boolean
}): string[] {
  const { client, policy, forUser } = input
  const requested = parseScope(input.requested)
  if (requested === undefined) {
    const defaults =
      policy.scopeDefault === 'client-default' && client.defaultScopes.length > 0 ? client.defaultScopes : client.scopes
    return [...defaults].filter((scope) => forUser || !USER_ONLY_SCOPES.has(scope)).sort()
  }
  for (const scope of requested) {
    if (!client.scopes.includes(scope)) {
      throw new OAuthError('invalid_scope', { description: `The scope '${scope}' is not allowed for this client.` })
    }
    if (!forUser && USER_ONLY_SCOPES.has(scope)) {
      throw new OAuthError('invalid_scope', { description: `The scope '${scope}' needs a user; client_credentials has none.` })
    }
  }
  return requested
}

/** RFC 6749 §6: a refresh may narrow the original scope, never widen it. */
export function narrowScopes(requested: string | undefined, original: string[]): string[] {
  const scopes = parseScope(requested)
  if (scopes === undefined) return original
  for (const scope of scopes) {
    if (!original.includes(scope)) {
      throw new OAuthError('invalid_scope', { description: `The scope '${scope}' was not granted originally.` })
    }
  }
  return scopes
}
