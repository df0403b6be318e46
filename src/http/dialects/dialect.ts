import type { FastifyReply, FastifyRequest } from 'fastify'

/** What a dialect sends back: status, extra headers, JSON body (undefined for an empty one). */
export interface WireAnswer {
  status: number
  headers?: Record<string, string>
  body?: unknown
}

/**
 * A dialect shapes errors for its routes; the shared error and not-found handlers ask the
 * route's dialect so that even a body-parser failure answers in the right shape.
 */
export interface ErrorShaper {
  readonly name: string
  /** Maps any thrown value (OAuthError, parser error, or unexpected) to the wire. */
  formatError(error: unknown, request: FastifyRequest): WireAnswer
  /** The answer for an unknown path under a prefix the dialect owns (the wrapped dialect's 404001). */
  formatNotFound?(request: FastifyRequest): WireAnswer
}

/** RFC 6749 §5.1 / §5.2: token answers are never cached. */
export const NO_STORE_HEADERS: Readonly<Record<string, string>> = { 'cache-control': 'no-store', pragma: 'no-cache' }

export function send(reply: FastifyReply, answer: WireAnswer): FastifyReply {
  reply.code(answer.status)
  if (answer.headers) reply.headers(answer.headers)
  return answer.body === undefined ? reply.send() : reply.send(answer.body)
}
