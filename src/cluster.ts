import cluster, { type Worker } from 'node:cluster'
import type { Logger } from 'pino'
import type { Config } from './config.js'
import { createGatehouse } from './gatehouse.js'
import { redactUrl } from './store/open-store.js'
import { serveClusterMetrics } from './metrics/cluster-metrics.js'

/** True in a process that `serve --workers N` forked. */
export const isClusterWorker = (): boolean => cluster.isWorker

export interface ClusterOptions {
  /** How long workers get to stop on shutdown before they are killed (default 15 s). */
  stopTimeoutMs?: number
}

/**
 * The primary of `serve --workers N` (node:cluster). It prepares the database once — migrations,
 * the first signing key, the key-encryption secret file — before forking, so workers never race
 * for them; then forks N workers that share the port, replaces any that dies, runs housekeeping
 * (the only process that does), and on SIGTERM/SIGINT stops the workers gracefully and exits 0.
 */
export async function runClusterPrimary(config: Config, logger: Logger, options: ClusterOptions = {}): Promise<void> {
  const gatehouse = await createGatehouse(config, { logger })
  gatehouse.housekeeping.start({
    onError: (error) => logger.error({ err: error }, 'housekeeping failed'),
    onDeleted: (count) => logger.info({ deleted: count }, 'housekeeping deleted expired rows'),
  })

  let stopping = false
  /** Consecutive quick deaths: a worker that dies at start-up is re-forked with a growing delay. */
  let quickDeaths = 0
  const startedAt = new WeakMap<Worker, number>()
  const fork = (): void => {
    if (stopping) return
    const worker = cluster.fork()
    startedAt.set(worker, Date.now())
  }

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return
    const lived = Date.now() - (startedAt.get(worker) ?? 0)
    quickDeaths = lived < 5000 ? quickDeaths + 1 : 0
    const delay = quickDeaths === 0 ? 0 : Math.min(250 * 2 ** quickDeaths, 10_000)
    logger.error({ pid: worker.process.pid, code, signal, restartInMs: delay }, 'a worker died; starting another')
    setTimeout(fork, delay).unref()
  })

  let listening = 0
  cluster.on('listening', (_worker, address) => {
    listening++
    if (listening === config.workers) {
      logger.info(
        { url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`, workers: config.workers, database: redactUrl(config.databaseUrl) },
        'Gatehouse is listening (cluster mode)',
      )
    }
  })

  if (config.metrics) serveClusterMetrics()
  for (let i = 0; i < config.workers; i++) fork()

  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down the workers')
    const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined)
    const exited = workers.map((worker) => new Promise<void>((resolve) => (worker.isDead() ? resolve() : worker.once('exit', () => resolve()))))
    // Each worker closes its server (finishing requests under way) and exits on SIGTERM.
    for (const worker of workers) worker.process.kill('SIGTERM')
    const force = setTimeout(() => {
      logger.warn('workers did not stop in time; killing them')
      for (const worker of workers) if (!worker.isDead()) worker.process.kill('SIGKILL')
    }, options.stopTimeoutMs ?? 15_000)
    force.unref()
    Promise.all(exited)
      .then(() => gatehouse.close())
      .then(() => logger.flush())
      .then(() => process.exit(0))
      .catch(() => process.exit(1))
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}
