import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { core, NodeSDK, resources } from '@opentelemetry/sdk-node'
import type { FastifyInstance, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { OAuthError } from '../core/errors.js'
import type { SpanAttributes, SpanNotes, Tracer } from '../core/tracer.js'
import { toOAuthError } from '../http/error-mapping.js'
import { grantOf, outcomeOf } from '../http/request-labels.js'
import type { TracingConfig } from './tracing-config.js'
import type { Tracing } from './tracing.js'

/** Imported only by startTracing (dynamically): everything of OpenTelemetry's SDK is reached from here. */

/** What a failure is recorded as: its OAuth error code or its class name, never its message (it may quote input). */
function errorType(error: unknown): string {
  if (error instanceof OAuthError) return error.code
  return error instanceof Error ? error.name : 'unknown'
}

function endFailed(span: Span, error: unknown): void {
  const type = errorType(error)
  span.setAttributes({ 'error.type': type, ...(error instanceof OAuthError ? { 'gatehouse.outcome': type } : {}) })
  span.setStatus({ code: SpanStatusCode.ERROR })
  span.end()
}

interface RequestTrace {
  span: Span
  context: Context
  /** The OAuth error code of an error the request ended in (onError). */
  error?: string
  ended?: boolean
}

/**
 * A SERVER span per request, child of the caller's W3C `traceparent` when it sends one. It
 * records the method, the route *pattern* (`http.route`), the status and Gatehouse's own labels;
 * never the URL (query strings of token routes may hold secrets), a header or the body.
 */
function instrumentFastify(app: FastifyInstance, tracer: ReturnType<typeof trace.getTracer>): void {
  const traces = new WeakMap<FastifyRequest, RequestTrace>()
  // Callback hooks (no promise per request): they run on every request.
  app.addHook('onRequest', (request, _reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers)
    const route = request.routeOptions.url
    const span = tracer.startSpan(
      route === undefined ? request.method : `${request.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'url.scheme': request.protocol, ...(route === undefined ? {} : { 'http.route': route }) } },
      parent,
    )
    const active = trace.setSpan(parent, span)
    traces.set(request, { span, context: active })
    context.with(active, done)
  })
  // The body is read in the socket's callbacks, outside the request's context: enter it again
  // once parsed, so the handler's spans (client authentication, grant, store) are its children.
  const reenter = (request: FastifyRequest, _reply: unknown, done: HookHandlerDoneFunction): void => {
    const state = traces.get(request)
    if (state === undefined) return done()
    context.with(state.context, done)
  }
  app.addHook('preValidation', reenter)
  app.addHook('onError', (request, _reply, error, done) => {
    const state = traces.get(request)
    if (state !== undefined) state.error = toOAuthError(error).code
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    const state = traces.get(request)
    if (state === undefined || state.ended) return done()
    state.ended = true
    const status = reply.statusCode
    const attributes: Record<string, string | number> = { 'http.response.status_code': status }
    const shaper = request.routeOptions.config.shaper
    if (shaper) {
      const grant = grantOf(request, shaper.name)
      attributes['gatehouse.dialect'] = shaper.name
      if (grant !== 'none') attributes['gatehouse.grant_type'] = grant
      attributes['gatehouse.outcome'] = state.error ?? (status < 400 ? (grant !== 'none' ? 'token_issued' : 'ok') : outcomeOf(status))
    }
    state.span.setAttributes(attributes)
    // HTTP semantic conventions: a server span is an error for a 5xx only (a 4xx is the client's).
    if (status >= 500) state.span.setStatus({ code: SpanStatusCode.ERROR })
    state.span.end()
    done()
  })
  app.addHook('onRequestAbort', (request, done) => {
    const state = traces.get(request)
    if (state !== undefined && !state.ended) {
      state.ended = true
      state.span.setAttributes({ 'error.type': 'aborted' })
      state.span.end()
    }
    done()
  })
}

export function startOpenTelemetry(config: TracingConfig): Tracing {
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    traceExporter: new OTLPTraceExporter({ url: config.tracesUrl }),
    textMapPropagator: new core.W3CTraceContextPropagator(),
    // Traces only: no metrics (Prometheus has them), no logs, no automatic instrumentation.
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
    // OTEL_RESOURCE_ATTRIBUTES only: the process detector would record the command line, which may hold a database URL with its password.
    resourceDetectors: [resources.envDetector],
  })
  sdk.start()
  const otel = trace.getTracer('gatehouse')
  const tracer: Tracer = {
    span<T>(name: string, options: { attributes?: SpanAttributes; kind?: 'internal' | 'client' }, work: (notes: SpanNotes) => Promise<T>): Promise<T> {
      const kind = options.kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL
      return otel.startActiveSpan(name, { kind, ...(options.attributes ? { attributes: options.attributes } : {}) }, async (span) => {
        try {
          const result = await work({ set: (attributes) => span.setAttributes(attributes) })
          span.end()
          return result
        } catch (error) {
          endFailed(span, error)
          throw error
        }
      })
    },
  }
  return {
    tracer,
    instrument: (app) => instrumentFastify(app, otel),
    async shutdown() {
      await sdk.shutdown()
      // The globals would keep pointing at a stopped SDK: a later start in this process (a test) registers anew.
      trace.disable()
      context.disable()
      propagation.disable()
    },
  }
}
