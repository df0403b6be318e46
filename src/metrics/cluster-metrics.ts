import cluster from 'node:cluster'
import { randomUUID } from 'node:crypto'
import { AggregatorRegistry, type Registry } from 'prom-client'

/**
 * Metrics in cluster mode (`serve --workers N`): a scrape lands on any one worker, which asks
 * the primary; the primary gathers every worker's registry over IPC (prom-client's
 * AggregatorRegistry) and answers with the sum, so Prometheus sees the whole server.
 */
const REQUEST = 'gatehouse:metrics-request'
const RESPONSE = 'gatehouse:metrics-response'

interface MetricsMessage {
  type: string
  id: string
  text?: string
  error?: string
}

const isMessage = (value: unknown): value is MetricsMessage =>
  typeof value === 'object' && value !== null && typeof (value as MetricsMessage).type === 'string' && typeof (value as MetricsMessage).id === 'string'

/** In the primary: answers workers' requests with all workers' metrics. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry()
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage(message) || message.type !== REQUEST) return
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: RESPONSE, id: message.id, text }),
      (error: unknown) => worker.send({ type: RESPONSE, id: message.id, error: (error as Error).message }),
    )
  })
}

/** In a worker: offers `registry` to the primary's aggregation and returns a collector for /metrics. */
export function clusterMetricsCollector(registry: Registry, timeoutMs = 5000): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry])
  // Constructing one installs prom-client's worker-side listener.
  new AggregatorRegistry()
  const pending = new Map<string, { resolve: (text: string) => void; reject: (error: Error) => void }>()
  process.on('message', (message: unknown) => {
    if (!isMessage(message) || message.type !== RESPONSE) return
    const waiter = pending.get(message.id)
    if (!waiter) return
    pending.delete(message.id)
    if (message.error !== undefined || message.text === undefined) waiter.reject(new Error(message.error ?? 'no metrics'))
    else waiter.resolve(message.text)
  })
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = randomUUID()
      const timer = setTimeout(() => {
        pending.delete(id)
        reject(new Error('the primary did not answer the metrics request'))
      }, timeoutMs)
      pending.set(id, {
        resolve: (text) => (clearTimeout(timer), resolve(text)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      })
      process.send?.({ type: REQUEST, id })
    })
}
