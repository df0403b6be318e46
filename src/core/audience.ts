import type { Api } from './apis/api-store.js'
import { OAuthError } from './errors.js'
import { USER_ONLY_SCOPES } from './scope.js'
import type { Client } from './types.js'

/** The registry as the token path reads it: synchronous, from memory (no database read per request). */
export interface ApiCatalog {
  apiByIdentifier(identifier: string): Api | undefined
  /** The API a scope belongs to (scope names are unique across the registry). */
  apiOfScope(scope: string): Api | undefined
}

/** A registry with no APIs: what a grant sees when none is wired (tests, tools). */
export const EMPTY_CATALOG: ApiCatalog = { apiByIdentifier: () => undefined, apiOfScope: () => undefined }

/**
 * The audiences a client may ask for: its own `audience`, plus the identifier of every
 * registered API of which it holds a scope.
 */
export function allowedAudiences(client: Client, registry: ApiCatalog): string[] {
  const audiences = new Set<string>(client.audience !== null ? [client.audience] : [])
  for (const scope of client.scopes) {
    const api = registry.apiOfScope(scope)
    if (api) audiences.add(api.identifier)
  }
  return [...audiences]
}

/**
 * RFC 8707 §2 (the `audience` parameter standing for `resource`): decides a token's `aud` and
 * narrows the granted scopes to the named API's. No audience asked for: as before, the
 * client's own audience (else the issuer, decided by the token service) and every granted
 * scope. `forUser` keeps the user-only scopes (`openid`, `offline_access`) of a user grant.
 */
export function resolveAudience(input: {
  client: Client
  requested: string | undefined
  scopes: string[]
  registry: ApiCatalog
  forUser: boolean
}): { audience: string | undefined; scopes: string[] } {
  const { client, requested, scopes, registry } = input
  if (requested === undefined) return { audience: undefined, scopes }
  const api = registry.apiByIdentifier(requested)
  const holdsScopeOfApi = api !== undefined && client.scopes.some((scope) => registry.apiOfScope(scope)?.id === api.id)
  if (requested !== client.audience && !holdsScopeOfApi) {
    throw new OAuthError('invalid_target', { description: `The audience "${requested}" is not allowed for this client.`, debug: api ? 'client holds no scope of that API' : 'no such API' })
  }
  // The client's own audience need not be a registered API; then nothing is narrowed.
  if (api === undefined) return { audience: requested, scopes }
  const narrowed = scopes.filter((scope) => registry.apiOfScope(scope)?.id === api.id || (input.forUser && USER_ONLY_SCOPES.has(scope)))
  if (!narrowed.some((scope) => registry.apiOfScope(scope)?.id === api.id)) {
    throw new OAuthError('invalid_scope', { description: `None of the granted scopes belongs to the audience "${requested}"; ask for one of its scopes.` })
  }
  return { audience: requested, scopes: narrowed }
}
