import { OAuthError } from '../core/errors.js'
import { RESOURCE_PARAMETER } from '../core/resource-indicators.js'

/** A request's parameters: one string per name (RFC 6749 §3.1: no repeats, empty = absent). */
export type Parameters = ReadonlyMap<string, string>

/** Marker the catch-all content-type parser leaves for bodies of a type we do not read. */
export const UNSUPPORTED_BODY: unique symbol = Symbol('unsupported body')

/**
 * RFC 8707 §2: `resource` is the one parameter that may be repeated. The map keeps its values
 * space-separated (a URI has no space), so a value holding whitespace is refused here, before
 * it could pass for two.
 */
function readResources(value: unknown): string | undefined {
  const values = Array.isArray(value) ? (value as unknown[]) : [value]
  const kept: string[] = []
  for (const item of values) {
    if (item === null || item === undefined || item === '') continue
    if (typeof item !== 'string') throw new OAuthError('invalid_request', { description: `The ${RESOURCE_PARAMETER} parameter must be a string.` })
    if (/\s/.test(item)) throw new OAuthError('invalid_target', { description: 'A resource must be an absolute URI without spaces (RFC 8707 §2).' })
    kept.push(item)
  }
  return kept.length === 0 ? undefined : kept.join(' ')
}

/**
 * Reads form or JSON parameters into one map. RFC 6749 §3.1: a parameter MUST NOT be
 * included more than once (but `resource`, RFC 8707 §2), and one sent without a value is
 * treated as omitted.
 */
export function readParameters(source: unknown): Map<string, string> {
  const parameters = new Map<string, string>()
  if (source === undefined || source === null) return parameters
  if (source === UNSUPPORTED_BODY) {
    throw new OAuthError('invalid_request', { description: 'The request body must be application/x-www-form-urlencoded or application/json.' })
  }
  if (typeof source !== 'object' || Array.isArray(source)) {
    throw new OAuthError('invalid_request', { description: 'The request body must be a set of named parameters.' })
  }
  for (const name of Object.keys(source)) {
    const value: unknown = (source as Record<string, unknown>)[name]
    if (name === RESOURCE_PARAMETER) {
      const resources = readResources(value)
      if (resources !== undefined) parameters.set(name, resources)
      continue
    }
    if (Array.isArray(value)) {
      throw new OAuthError('invalid_request', { description: `The ${name} parameter is repeated.` })
    }
    if (value === null || value === undefined || value === '') continue
    if (typeof value !== 'string') {
      throw new OAuthError('invalid_request', { description: `The ${name} parameter must be a string.` })
    }
    parameters.set(name, value)
  }
  return parameters
}
