import { OAuthError } from '../../core/errors.js'
import { isStoreUnavailable } from '../../store/availability.js'
import { retryAfterHeaders, RETRY_AFTER_SECONDS } from '../error-mapping.js'
import type { WireAnswer } from '../dialects/dialect.js'
import { PAGE_HEADERS } from './console/html.js'

/**
 * The error answer of a page route (the console, the hosted sign-in pages): a page, never JSON
 * or a stack trace, with the status the error means — 429 with Retry-After for a rate limit,
 * 503 with Retry-After for an outage or a full password-check queue, 400 for a refused request
 * (its description shown), Fastify's own 4xx as they are, 500 for the rest (logged).
 */
export function pageErrorAnswer(error: unknown, render: (page: { title: string; message: string }) => string): WireAnswer {
  const headers = { ...PAGE_HEADERS }
  if (isStoreUnavailable(error)) {
    return { status: 503, headers: { ...headers, 'retry-after': RETRY_AFTER_SECONDS }, body: render({ title: 'Try again shortly', message: 'The service is briefly unavailable. Please try again in a few seconds.' }) }
  }
  if (error instanceof OAuthError && error.code !== 'server_error') {
    if (error.code === 'rate_limited') {
      const wait = retryAfterHeaders(error)['retry-after'] ?? '1'
      return { status: 429, headers: { ...headers, 'retry-after': wait }, body: render({ title: 'Too many requests', message: `Too many requests came from your network. Please wait ${wait} seconds and try again.` }) }
    }
    if (error.code === 'temporarily_unavailable') {
      return { status: 503, headers: { ...headers, 'retry-after': retryAfterHeaders(error)['retry-after'] ?? RETRY_AFTER_SECONDS }, body: render({ title: 'Try again shortly', message: 'The server is busy. Please try again in a moment.' }) }
    }
    return { status: 400, headers, body: render({ title: 'Request refused', message: error.description ?? 'The request could not be accepted.' }) }
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode
  const client = typeof status === 'number' && status >= 400 && status < 500
  return {
    status: client ? status : 500,
    headers,
    body: render({ title: client ? 'Bad request' : 'Something went wrong', message: client ? 'The request could not be read.' : 'An unexpected error occurred; it has been logged.' }),
  }
}
