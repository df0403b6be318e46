/**
 * The wire dialects the token client speaks (see docs/sdk.md).
 *
 * @example
 * ```ts
 * const dialect: TokenDialectName = process.env.GATEHOUSE_DIALECT === 'canary' ? 'canary' : 'standard'
 * ```
 */
export type TokenDialectName = 'standard' | 'canary' | 'identityserver' | 'wrapped'

/**
 * Why a token could not be obtained. `code` is the server's error code when it sent one
 * (RFC 6749 §5.2 `invalid_client`, `invalid_grant`, …; the wrapped dialect's `code_reason`),
 * otherwise one of the client's own:
 * - `request_failed`: the token endpoint could not be reached (network error, timeout);
 * - `invalid_response`: it answered, but not with a token or an error this dialect documents.
 *
 * @example
 * ```ts
 * import { TokenClientError } from 'gatehouse-client'
 * try {
 *   await tokens.getToken()
 * } catch (error) {
 *   if (error instanceof TokenClientError && error.code === 'invalid_client') {
 *     console.error(`check the client secret (${error.dialect}, HTTP ${error.status})`)
 *   }
 * }
 * ```
 */
export class TokenClientError extends Error {
  /** The server's error code, or `request_failed` / `invalid_response`. */
  readonly code: string
  /** The HTTP status of the answer, when there was one. */
  readonly status: number | undefined
  readonly dialect: TokenDialectName
  /** The server's `error_description` (or the wrapped dialect's `message`), when it sent one. */
  readonly description: string | undefined
  /** The wrapped dialect's numeric code as text (e.g. `'401021'`), when it sent one. */
  readonly vendorCode: string | undefined

  constructor(input: {
    code: string
    status?: number | undefined
    dialect: TokenDialectName
    description?: string | undefined
    vendorCode?: string | undefined
    cause?: unknown
  }) {
    const where = input.status === undefined ? input.dialect : `${input.dialect}, HTTP ${input.status}`
    super(`${input.code}${input.description ? `: ${input.description}` : ''} (${where})`, { cause: input.cause })
    this.name = 'TokenClientError'
    this.code = input.code
    this.status = input.status
    this.dialect = input.dialect
    this.description = input.description
    this.vendorCode = input.vendorCode
  }
}
