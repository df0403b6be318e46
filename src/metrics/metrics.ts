import { aroundStoreCalls } from '../store/store-calls.js'
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import type { LimitScope } from '../core/abuse/abuse-guard.js'
import { CounterTally, HistogramTally } from './tally.js'

/** What the gauges read when Prometheus scrapes (no work on the request path). */
export interface MetricSources {
  clientCacheStats(): { hits: number; misses: number }
  publishedSigningKeys(): number
}

/**
 * Gatehouse's Prometheus metrics, one registry per service instance (tests run several in one
 * process). Labels never carry a secret, a token or a client id (unbounded cardinality).
 */
export class GatehouseMetrics {
  readonly registry = new Registry()

  // The three updated on every request are tallies (plain numbers, read at scrape time: tally.ts).

  /** Token, introspection, revocation and userinfo requests of every dialect. */
  readonly requests = new CounterTally({
    name: 'gatehouse_token_requests_total',
    help: 'Requests to the token endpoints of every dialect, by dialect, route, grant, outcome and OAuth error code.',
    labelNames: ['dialect', 'route', 'grant', 'outcome', 'error'] as const,
  }).registerIn(this.registry)

  readonly requestDuration = new HistogramTally({
    name: 'gatehouse_token_request_duration_seconds',
    help: 'Latency of token endpoint requests, by dialect, route and outcome.',
    labelNames: ['dialect', 'route', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  }).registerIn(this.registry)

  readonly storeDuration = new HistogramTally({
    name: 'gatehouse_store_operation_duration_seconds',
    help: 'Latency of store (database) operations on the token path, by operation and outcome.',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
  }).registerIn(this.registry)

  readonly rateLimited = new Counter({
    name: 'gatehouse_rate_limited_total',
    help: 'Requests refused by a rate limit, the failed-attempt throttle or the login lockout, by scope.',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  })

  readonly limitBackendErrors = new Counter({
    name: 'gatehouse_rate_limit_backend_errors_total',
    help: 'Redis errors of the shared rate limiter (checks then fall back to this instance).',
    registers: [this.registry],
  })

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_' })
  }

  /** Gauges read at scrape time from the service's own counters. */
  observe(sources: MetricSources): void {
    new Gauge({
      name: 'gatehouse_client_cache_requests',
      help: 'Client cache lookups since start-up, by result (hit ratio = hit / (hit + miss)).',
      labelNames: ['result'] as const,
      registers: [this.registry],
      collect() {
        const { hits, misses } = sources.clientCacheStats()
        this.set({ result: 'hit' }, hits)
        this.set({ result: 'miss' }, misses)
      },
    })
    new Gauge({
      name: 'gatehouse_client_cache_hit_ratio',
      help: 'Client cache hits / lookups since start-up (0 before the first lookup).',
      registers: [this.registry],
      aggregator: 'average',
      collect() {
        const { hits, misses } = sources.clientCacheStats()
        this.set(hits + misses === 0 ? 0 : hits / (hits + misses))
      },
    })
    new Gauge({
      name: 'gatehouse_signing_keys_published',
      help: 'Signing keys published in the JWKS (the active key and retired keys still verifying tokens).',
      registers: [this.registry],
      // Every worker publishes the same keys: across a cluster, not a sum.
      aggregator: 'max',
      collect() {
        this.set(sources.publishedSigningKeys())
      },
    })
  }

  refused(scope: LimitScope): void {
    this.rateLimited.inc({ scope })
  }
}

/**
 * Times every method of `store` that returns a promise, into `gatehouse_store_operation_duration_seconds`.
 * Wrappers are made once per method name, so the cost per call is a timer read and a histogram update.
 */
export function instrumentStore<T extends object>(store: T, histogram: GatehouseMetrics['storeDuration']): T {
  return aroundStoreCalls(store, (operation) => {
    const succeeded = { operation, outcome: 'ok' }
    const failed = { operation, outcome: 'error' }
    return (call, startedAt) => {
      const seconds = (): number => Number(process.hrtime.bigint() - startedAt) / 1e9
      return call.then(
        (ok) => {
          histogram.observe(succeeded, seconds())
          return ok
        },
        (error: unknown) => {
          histogram.observe(failed, seconds())
          throw error
        },
      )
    }
  })
}
