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
  if (!resourceAllowed(client, requested, registry)) {
    throw new OAuthError('invalid_target', { description: `The audience "${requested}" is not allowed for this client.`, debug: api ? 'client holds no scope of that API' : 'no such API' })
  }
  // The client's own audience and resources need not be registered APIs; then nothing is narrowed.
  if (api === undefined) return { audience: requested, scopes }
  const narrowed = scopes.filter((scope) => registry.apiOfScope(scope)?.id === api.id || (input.forUser && USER_ONLY_SCOPES.has(scope)))
  if (!narrowed.some((scope) => registry.apiOfScope(scope)?.id === api.id)) {
    throw new OAuthError('invalid_scope', { description: `None of the granted scopes belongs to the audience "${requested}"; ask for one of its scopes.` })
  }
  return { audience: requested, scopes: narrowed }
}

/**
 * RFC 8707 §2 for a token from a grant that holds resources (an authorization code's, a
 * refresh token's): the request may name one of the grant's resources (never another: a
 * refresh keeps the original grant's resources and may only narrow them); without one, the
 * first. A grant from before resource indicators (`granted` undefined) keeps its audience as
 * it was and may be narrowed to nothing else. Each chosen resource is checked again against the
 * client: one it may no longer ask for is `invalid_target`.
 */
export function resolveGrantAudience(input: {
  client: Client
  /** The resources the grant was given for; undefined: none were named. */
  granted: readonly string[] | undefined
  /** The audience without resource indicators (the grant's own, or the client's default). */
  fallback: string | null
  requested: string | undefined
  scopes: string[]
  registry: ApiCatalog
  forUser: boolean
}): { audience: string | undefined; scopes: string[] } {
  const { requested, granted } = input
  if (requested === undefined && (granted === undefined || granted.length === 0)) return { audience: input.fallback ?? undefined, scopes: input.scopes }
  // Without resources of its own the grant holds just its audience (the issuer when null).
  const held = granted !== undefined && granted.length > 0 ? granted : input.fallback !== null ? [input.fallback] : []
  if (requested !== undefined && !held.includes(requested)) {
    throw new OAuthError('invalid_target', { description: `The resource "${requested}" is not among those this grant was given for.` })
  }
  return resolveAudience({ client: input.client, requested: requested ?? held[0], scopes: input.scopes, registry: input.registry, forUser: input.forUser })
}

/** Whether the client may ask for this resource at all (its audience, its resources, or an API of which it holds a scope). */
export function resourceAllowed(client: Client, resource: string, registry: ApiCatalog): boolean {
  if (resource === client.audience || client.resources.includes(resource)) return true
  const api = registry.apiByIdentifier(resource)
  return api !== undefined && client.scopes.some((scope) => registry.apiOfScope(scope)?.id === api.id)
}
