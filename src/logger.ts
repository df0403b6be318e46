import pino, { type DestinationStream, type Logger } from 'pino'

/**
 * Structured logs. No code path logs a secret; redaction is the second line of defence for
 * fields that could carry one if a future log call were careless.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'gatehouse' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["csc-api-key"]',
          '*.password',
          '*.client_secret',
          '*.clientSecret',
          '*.client_assertion',
          '*.assertion',
          '*.refresh_token',
          '*.access_token',
          '*.token',
          '*.secret',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  )
}
