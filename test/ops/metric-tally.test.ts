import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client'
import { CounterTally, HistogramTally } from '../../src/metrics/tally.js'

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
const label = fc.constantFrom('rfc6749', 'identityserver', 'wrapped', '', 'with "quote"', 'back\\slash', 'new\nline')
const observation = fc.record({ dialect: label, outcome: fc.constantFrom('success', 'refused'), value: fc.oneof(fc.double({ min: 0, max: 10, noNaN: true }), fc.constantFrom(...BUCKETS)) })

/** The same observations through prom-client's own metrics and through the tallies. */
function both(observations: { dialect: string; outcome: string; value: number }[]): { prom: Registry; tally: Registry } {
  const prom = new Registry()
  const tally = new Registry()
  const labelNames = ['dialect', 'outcome'] as const
  const counter = new Counter({ name: 'x_requests_total', help: 'Requests.', labelNames, registers: [prom] })
  const histogram = new Histogram({ name: 'x_duration_seconds', help: 'Latency.', labelNames, buckets: BUCKETS, registers: [prom] })
  const counterTally = new CounterTally({ name: 'x_requests_total', help: 'Requests.', labelNames }).registerIn(tally)
  const histogramTally = new HistogramTally({ name: 'x_duration_seconds', help: 'Latency.', labelNames, buckets: BUCKETS }).registerIn(tally)
  for (const { dialect, outcome, value } of observations) {
    counter.inc({ dialect, outcome })
    counterTally.inc({ dialect, outcome })
    histogram.observe({ dialect, outcome }, value)
    histogramTally.observe({ dialect, outcome }, value)
  }
  return { prom, tally }
}

describe('metric tallies (plain counters handed to prom-client at scrape time)', () => {
  it('expose exactly the text prom-client writes for the same observations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (observations) => {
        const { prom, tally } = both(observations)
        assert.equal(await tally.metrics(), await prom.metrics())
      }),
      { numRuns: 200 },
    )
  })

  it('aggregate across cluster workers as prom-client does (summed)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 30 }), fc.array(observation, { maxLength: 30 }), async (first, second) => {
        const a = both(first)
        const b = both(second)
        const summed = async (registries: Registry[]): Promise<string> =>
          AggregatorRegistry.aggregate(await Promise.all(registries.map((registry) => registry.getMetricsAsJSON()))).metrics()
        assert.equal(await summed([a.tally, b.tally]), await summed([a.prom, b.prom]))
      }),
      { numRuns: 100 },
    )
  })

  it('writes nothing for a labelled metric before its first update, and nothing after a reset', async () => {
    const registry = new Registry()
    const counter = new CounterTally({ name: 'y_total', help: 'Y.', labelNames: ['a'] as const }).registerIn(registry)
    assert.equal(await registry.metrics(), '# HELP y_total Y.\n# TYPE y_total counter\n')
    counter.inc({ a: '1' }, 2)
    assert.equal(await registry.metrics(), '# HELP y_total Y.\n# TYPE y_total counter\ny_total{a="1"} 2\n')
    registry.resetMetrics()
    assert.equal(await registry.metrics(), '# HELP y_total Y.\n# TYPE y_total counter\n')
  })
})
