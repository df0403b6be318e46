import type { FastifyRequest } from 'fastify'
import { ApiKeyValidationError } from '../../../core/admin/api-key-admin.js'
import { ApiValidationError } from '../../../core/apis/api-registry.js'
import { ClientValidationError } from '../../../core/admin/client-admin.js'
import { UserValidationError } from '../../../core/admin/user-admin.js'
import { OAuthError } from '../../../core/errors.js'
import { isStoreUnavailable } from '../../../store/availability.js'
import { DuplicateError } from '../../../core/store-errors.js'
import type { ErrorShaper, WireAnswer } from '../../dialects/dialect.js'

/** RFC 7807 §3.1 problem details, the one error shape of the management API. */
export interface Problem {
  type: string
  title: string
  status: number
  detail: string
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** Problem types: URNs, so they identify without pretending to be fetchable pages. */
export const PROBLEMS = {
  validation: { type: 'urn:gatehouse:problem:validation', title: 'Invalid request', status: 400 },
  unauthorized: { type: 'urn:gatehouse:problem:unauthorized', title: 'Unauthorized', status: 401 },
  forbidden: { type: 'urn:gatehouse:problem:forbidden', title: 'Forbidden', status: 403 },
  notFound: { type: 'urn:gatehouse:problem:not-found', title: 'Not found', status: 404 },
  conflict: { type: 'urn:gatehouse:problem:conflict', title: 'Conflict', status: 409 },
  rateLimited: { type: 'urn:gatehouse:problem:rate-limited', title: 'Too many requests', status: 429 },
  unavailable: { type: 'urn:gatehouse:problem:unavailable', title: 'Service unavailable', status: 503 },
  server: { type: 'urn:gatehouse:problem:server-error', title: 'Internal server error', status: 500 },
} as const

type ProblemKind = keyof typeof PROBLEMS

/** A problem a management route throws on purpose; `headers` carries e.g. WWW-Authenticate. */
export class ProblemError extends Error {
  readonly kind: ProblemKind
  readonly headers: Record<string, string>
  constructor(kind: ProblemKind, detail: string, headers: Record<string, string> = {}) {
    super(detail)
    this.name = 'ProblemError'
    this.kind = kind
    this.headers = headers
  }
}

export function problemAnswer(kind: ProblemKind, detail: string, headers: Record<string, string> = {}): WireAnswer {
  const problem: Problem = { ...PROBLEMS[kind], detail }
  return { status: problem.status, headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store', ...headers }, body: problem }
}

/** Fastify's schema-validation errors carry `validation`; say which field, never echo values. */
function isFastifyClientError(error: unknown): error is { statusCode: number; message: string; validation?: unknown } {
  const status = (error as { statusCode?: unknown } | null)?.statusCode
  return typeof status === 'number' && status >= 400 && status < 500
}

/** Maps anything a management route throws to a problem answer. */
export const problemShaper: ErrorShaper = {
  name: 'rfc7807',
  formatError(error: unknown, _request: FastifyRequest): WireAnswer {
    if (error instanceof ProblemError) return problemAnswer(error.kind, error.message, error.headers)
    if (error instanceof ClientValidationError || error instanceof UserValidationError || error instanceof ApiKeyValidationError || error instanceof ApiValidationError) {
      return problemAnswer('validation', error.message)
    }
    if (error instanceof DuplicateError) return problemAnswer('conflict', error.message)
    // RFC 6585 §4: the rate limiter's answer, with how long to wait.
    if (error instanceof OAuthError && error.code === 'rate_limited') {
      return problemAnswer('rateLimited', 'Too many requests; retry later.', { 'retry-after': String(Math.max(1, Math.ceil(error.retryAfter ?? 1))) })
    }
    if (isStoreUnavailable(error)) return problemAnswer('unavailable', 'The database is unreachable; retry shortly.', { 'retry-after': '5' })
    if (isFastifyClientError(error)) {
      const detail = error.validation !== undefined ? error.message : 'The request could not be read: send a JSON body with content-type application/json.'
      return problemAnswer('validation', detail)
    }
    return problemAnswer('server', 'An unexpected error occurred; it has been logged.')
  },
  /** An unknown operation under /admin/v1/ is a problem too, whether or not a token came with it. */
  formatNotFound(request: FastifyRequest): WireAnswer {
    return problemAnswer('notFound', `No management operation ${request.method} ${request.url.split('?')[0]}.`)
  },
}
