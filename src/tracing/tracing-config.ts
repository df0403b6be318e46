/** What starts tracing: the OTLP/HTTP traces URL and the service name (OpenTelemetry's own variables). */
export interface TracingConfig {
  /** Where spans are POSTed (OTLP/HTTP, JSON). May hold credentials: never logged. */
  tracesUrl: string
  /** `service.name` of every span: OTEL_SERVICE_NAME, default `gatehouse`. */
  serviceName: string
}

export class TracingConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TracingConfigError'
  }
}

/** The exporter Gatehouse ships (@opentelemetry/exporter-trace-otlp-http) speaks only this. */
const PROTOCOL = 'http/json'

function httpUrl(name: string, value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new TracingConfigError(`${name} must be an http(s) URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TracingConfigError(`${name} must be an http(s) URL (got scheme ${url.protocol})`)
  return value
}

/**
 * Tracing is on when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is) or OTEL_EXPORTER_OTLP_ENDPOINT
 * (+ `/v1/traces`, as the OpenTelemetry exporter specification appends it) is set, and neither
 * OTEL_SDK_DISABLED=true nor OTEL_TRACES_EXPORTER=none says otherwise. Unset: null, and nothing of
 * OpenTelemetry is ever loaded. A URL is never echoed in an error: it may carry credentials.
 */
export function loadTracingConfig(env: NodeJS.ProcessEnv): TracingConfig | null {
  const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value.trim())
  if (nonEmpty(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return null
  if (nonEmpty(env.OTEL_TRACES_EXPORTER)?.toLowerCase() === 'none') return null
  const traces = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
  const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT)
  if (traces === undefined && base === undefined) return null
  const exporter = nonEmpty(env.OTEL_TRACES_EXPORTER)
  if (exporter !== undefined && exporter.toLowerCase() !== 'otlp') throw new TracingConfigError(`OTEL_TRACES_EXPORTER must be "otlp" or "none" (got "${exporter}")`)
  const [protocolName, protocol] = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) !== undefined
    ? ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL)]
    : ['OTEL_EXPORTER_OTLP_PROTOCOL', nonEmpty(env.OTEL_EXPORTER_OTLP_PROTOCOL)]
  if (protocol !== undefined && protocol !== PROTOCOL) {
    throw new TracingConfigError(`${protocolName} must be "${PROTOCOL}" or unset: Gatehouse exports traces as OTLP/HTTP JSON (got "${protocol}")`)
  }
  const tracesUrl = traces !== undefined
    ? httpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', traces)
    : `${httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT', base ?? '').replace(/\/+$/, '')}/v1/traces`
  return { tracesUrl, serviceName: nonEmpty(env.OTEL_SERVICE_NAME) ?? 'gatehouse' }
}
