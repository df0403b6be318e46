import type { Metric, Registry } from 'prom-client'

/**
 * Counters and histograms kept as plain numbers on the request path and handed to prom-client
 * only when Prometheus scrapes. prom-client's own `inc()`/`observe()` validate the labels and
 * hash them into a key (sorting the names) on every update; a token request made two of those
 * updates, a few per cent of its CPU time (docs/design.md, Performance). Here an update is one
 * string key (the label values in declared order) and a Map lookup; the label objects are
 * built once per series and the Prometheus values at scrape time (`get()`, which the registry
 * calls for /metrics and for the cluster aggregation alike).
 */
type Labels<L extends string> = Readonly<Record<L, string>>

/** One sample of the exposition: `metricName{labels} value`. */
interface Sample {
  labels: Record<string, string | number>
  value: number
  metricName: string
}

/** What prom-client's registry reads from a metric (its `get()`), for the text format and for cluster aggregation. */
export interface MetricValues {
  name: string
  help: string
  type: 'counter' | 'histogram'
  values: Sample[]
  aggregator: 'sum'
}

/** The key of a series: its label values in the declared order (\u0001 cannot occur in one). */
function keyOf<L extends string>(names: readonly L[], labels: Labels<L>): string {
  let key = ''
  for (const name of names) key += labels[name] + '\u0001'
  return key
}

abstract class Tally<L extends string, S extends { labels: Labels<L> }> {
  protected readonly series = new Map<string, S>()
  readonly aggregator = 'sum' as const

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricValues['type'],
    protected readonly labelNames: readonly L[],
  ) {}

  /** Registers it beside prom-client's own metrics (the registry reads `name`, `type` and `get()`). */
  registerIn(registry: Registry): this {
    // prom-client types a registered metric as its Metric class; its registry uses only the members here.
    registry.registerMetric(this as unknown as Metric)
    return this
  }

  protected find(labels: Labels<L>, create: (labels: Labels<L>) => S): S {
    const key = keyOf(this.labelNames, labels)
    let entry = this.series.get(key)
    if (!entry) {
      // A copy: the caller's object may be reused for the next request.
      const own = {} as Record<L, string>
      for (const name of this.labelNames) own[name] = labels[name]
      entry = create(own)
      this.series.set(key, entry)
    }
    return entry
  }

  reset(): void {
    this.series.clear()
  }

  abstract get(): Promise<MetricValues>
}

/** A Prometheus counter (monotonic, summed across cluster workers). */
export class CounterTally<L extends string> extends Tally<L, { labels: Labels<L>; value: number }> {
  constructor(options: { name: string; help: string; labelNames: readonly L[] }) {
    super(options.name, options.help, 'counter', options.labelNames)
  }

  inc(labels: Labels<L>, value = 1): void {
    this.find(labels, (own) => ({ labels: own, value: 0 })).value += value
  }

  async get(): Promise<MetricValues> {
    const values = [...this.series.values()].map(({ labels, value }) => ({ labels: { ...labels }, value, metricName: this.name }))
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}

interface HistogramSeries<L extends string> {
  labels: Labels<L>
  /** Observations per bucket, not cumulative; the last is +Inf. */
  counts: number[]
  sum: number
  count: number
}

/** A Prometheus histogram with fixed upper bounds (seconds). */
export class HistogramTally<L extends string> extends Tally<L, HistogramSeries<L>> {
  readonly #bounds: readonly number[]

  constructor(options: { name: string; help: string; labelNames: readonly L[]; buckets: readonly number[] }) {
    super(options.name, options.help, 'histogram', options.labelNames)
    this.#bounds = [...options.buckets].sort((a, b) => a - b)
  }

  observe(labels: Labels<L>, value: number): void {
    if (!Number.isFinite(value)) return
    const entry = this.find(labels, (own) => ({ labels: own, counts: new Array<number>(this.#bounds.length + 1).fill(0), sum: 0, count: 0 }))
    let bucket = 0
    while (bucket < this.#bounds.length && value > (this.#bounds[bucket] as number)) bucket++
    entry.counts[bucket] = (entry.counts[bucket] as number) + 1
    entry.sum += value
    entry.count++
  }

  async get(): Promise<MetricValues> {
    const values: Sample[] = []
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0
      this.#bounds.forEach((bound, i) => {
        cumulative += counts[i] as number
        values.push({ labels: { le: bound, ...labels }, value: cumulative, metricName: `${this.name}_bucket` })
      })
      values.push({ labels: { le: '+Inf', ...labels }, value: count, metricName: `${this.name}_bucket` })
      values.push({ labels: { ...labels }, value: sum, metricName: `${this.name}_sum` })
      values.push({ labels: { ...labels }, value: count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}
