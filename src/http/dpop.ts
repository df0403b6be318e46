import type { FastifyRequest } from 'fastify'
import { DPOP_ALGS } from '../core/dpop/dpop-proof.js'

/**
 * RFC 9449 at the HTTP edge: the `DPoP` header and the URL a proof's `htu` must name. That URL is
 * the issuer's (as the discovery document names endpoints) plus the request's path: the server
 * may sit behind a proxy, so the Host header is not what the client was told.
 */
export function readDpop(request: FastifyRequest, issuer: string): { proof: string | undefined; method: string; url: string } {
  const header = request.headers.dpop
  // Two DPoP headers are not one proof: joined they fail as a malformed JWS.
  const proof = Array.isArray(header) ? header.join(',') : header
  const path = request.url.split('?')[0] ?? '/'
  return { proof, method: request.method, url: issuer + path }
}

/** Whether the `Authorization` header uses the DPoP scheme (RFC 7235 §2.1: case-insensitive). */
export function usesDpopScheme(header: string | undefined): boolean {
  return header !== undefined && /^dpop(?: |$)/i.test(header.trim())
}

/** The `Authorization` header's scheme and token: `Bearer` (RFC 6750 §2.1) or `DPoP` (RFC 9449 §7.1). */
export function readAccessToken(header: string | undefined): { scheme: 'Bearer' | 'DPoP'; token: string } | 'malformed' | undefined {
  if (header === undefined) return undefined
  const scheme = /^(bearer|dpop)(?: |$)/i.exec(header.trim())?.[1]?.toLowerCase()
  if (scheme === undefined) return undefined
  const match = /^(?:Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header)
  if (!match?.[1]) return 'malformed'
  return { scheme: scheme === 'dpop' ? 'DPoP' : 'Bearer', token: match[1] }
}

/** RFC 6750 §3 / RFC 9449 §7.1: error_description may hold only %x20-21 / %x23-5B / %x5D-7E. */
const headerSafe = (text: string): string => text.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '?')

/**
 * RFC 9449 §7.1: the `DPoP` challenge of a refusal that is about DPoP (a proof, a DPoP-bound
 * token), with the algorithms proofs may use. Bearer refusals keep their RFC 6750 challenge.
 */
export function dpopChallenge(error: 'invalid_token' | 'invalid_dpop_proof' | 'invalid_request' | 'insufficient_scope', description: string, realm?: string): string {
  return `DPoP ${[...(realm !== undefined ? [`realm="${realm}"`] : []), `error="${error}"`, `error_description="${headerSafe(description)}"`, `algs="${DPOP_ALGS.join(' ')}"`].join(', ')}`
}
