import pino, { type DestinationStream, type Logger } from 'pino'

/**
 * Where `serve` writes its log lines: stdout through sonic-boom (pino's asynchronous
 * destination), buffered until 4 KiB are pending or a second has passed, so a busy server
 * makes one write call per ~20 access lines instead of one per line (the write was 3 % of a
 * token request's CPU time at level info, docs/design.md). A clean stop loses nothing: the
 * SIGTERM/SIGINT path flushes before it exits, and pino registers a synchronous flush on the
 * process's `exit` (an uncaught exception or `process.exit` included). A crash that skips
 * `exit` — SIGKILL, the OOM killer, a native fault — loses what was pending: at most 4 KiB,
 * the last second of lines.
 */
export function bufferedStdout(): DestinationStream {
  return pino.destination({ fd: 1, sync: false, minLength: 4096, periodicFlush: 1000 })
}

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
    destination ?? bufferedStdout(),
  )
}

/**
 * The logger of the access lines (`request completed`, src/http/access-log.ts): the same
 * destination, level and base fields as `logger`, without redaction. Redacting walks every
 * configured path on every line, and was the largest cost of an access line (about 5 % of a
 * token request at level info, docs/design.md); an access line holds only fields built by
 * name — method, path without its query, address, status, time, request id — none of which
 * a redaction path matches, so it would find nothing there. Every other line keeps it.
 */
export function accessLogger(logger: Logger): Logger {
  // pino keeps a logger's destination under this symbol (its types do not declare it).
  const destination = Reflect.get(logger, pino.symbols.streamSym) as DestinationStream
  return pino({ level: logger.level, base: logger.bindings() }, destination)
}
