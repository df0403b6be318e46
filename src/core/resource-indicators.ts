import { OAuthError } from './errors.js'
import type { TokenRequest } from './types.js'

/**
 * RFC 8707 (resource indicators). `resource` may be repeated on the wire (§2); the parameter
 * map holds one string per name, so the dialects keep the values space-separated there — a
 * resource is an absolute URI, which has no space (RFC 3986 §2), so nothing is lost.
 */
export const RESOURCE_PARAMETER = 'resource'

/** At most this many resources per request: more is no honest client's request. */
export const MAX_RESOURCES = 20

/** Why a string is no resource indicator (RFC 8707 §2: an absolute URI without a fragment); undefined when it is one. */
export function resourceUriProblem(value: string): string | undefined {
  if (value.length > 2000) return 'is longer than 2000 characters'
  if (/[\s\u0000-\u001f\u007f-\u009f]/.test(value)) return 'contains a space or a control character'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'is not an absolute URI'
  }
  if (value.includes('#')) return 'has a fragment'
  if (url.protocol === '' || !/^[a-z][a-z0-9+.-]*:/i.test(value)) return 'is not an absolute URI'
  return undefined
}

/** The resources a request names with `resource` (checked, in order, without repeats). */
export function requestedResources(parameters: ReadonlyMap<string, string> | undefined): string[] {
  return parseResources(parameters?.get(RESOURCE_PARAMETER))
}

/** The space-separated `resource` value (see above) as checked resources; none when absent. */
export function parseResources(value: string | undefined): string[] {
  if (value === undefined) return []
  const resources = [...new Set(value.split(' ').filter((part) => part !== ''))]
  if (resources.length > MAX_RESOURCES) throw new OAuthError('invalid_target', { description: `At most ${MAX_RESOURCES} resource parameters are accepted.` })
  for (const resource of resources) {
    const problem = resourceUriProblem(resource)
    if (problem !== undefined) throw new OAuthError('invalid_target', { description: `The resource ${JSON.stringify(resource.slice(0, 200))} ${problem} (RFC 8707 §2: an absolute URI without a fragment).` })
  }
  return resources
}

/**
 * The one audience a token request asks for: `resource` (RFC 8707 §2) or `audience` (the
 * seeds' name for it, and RFC 8693 §2.1's). An access token serves one resource, so a token
 * request naming two different ones is `invalid_target` (§2: the server may refuse what it
 * cannot issue as one token); the client asks once per resource. Undefined: none named.
 */
export function requestedTarget(request: Pick<TokenRequest, 'parameters' | 'audience'>): string | undefined {
  const targets = new Set(requestedResources(request.parameters))
  if (request.audience !== undefined) targets.add(request.audience)
  if (targets.size > 1) {
    throw new OAuthError('invalid_target', { description: 'An access token serves one resource: name one resource (or audience) per token request, and ask again for another.' })
  }
  return targets.values().next().value
}
