import { OAuthError } from '../core/errors.js'

/** A request's parameters: one string per name (RFC 6749 §3.1: no repeats, empty = absent). */
export type Parameters = ReadonlyMap<string, string>

/** Marker the catch-all content-type parser leaves for bodies of a type we do not read. */
export const UNSUPPORTED_BODY: unique symbol = Symbol('unsupported body')

/**
 * Reads form or JSON parameters into one map. RFC 6749 §3.1: a parameter MUST NOT be
 * included more than once, and one sent without a value is treated as omitted.
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
