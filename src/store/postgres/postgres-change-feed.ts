import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { sql, type Kysely } from 'kysely'
import type { Change } from '../../core/changes.js'
import { Listeners, parseChange, type ChangeFeed, type ChangeListener } from '../change-feed.js'
import type { Database } from '../schema.js'

/** The one channel every Gatehouse instance on a database listens to. */
export const CHANGE_CHANNEL = 'gatehouse_changes'

export interface PostgresChangeFeedOptions {
  /** Listen for other instances' changes (servers); one-shot CLI commands only publish. */
  listen: boolean
  onError?: (error: unknown) => void
  /** First reconnect delay; it doubles up to `maxRetryMs`. */
  retryMs?: number
  maxRetryMs?: number
  /** How often the listening connection is checked, so a half-open one is noticed. */
  heartbeatMs?: number
}

/**
 * Change notices over PostgreSQL LISTEN/NOTIFY. NOTIFY goes through the store's pool (any
 * connection will do); LISTEN holds one dedicated connection, which is re-opened with a
 * growing delay when it fails. After a reconnect listeners hear `resync`, since notices sent
 * while it was down are lost (NOTIFY is not queued for absent listeners).
 */
export class PostgresChangeFeed implements ChangeFeed {
  readonly #db: Kysely<Database>
  readonly #connectionString: string
  readonly #options: Required<Omit<PostgresChangeFeedOptions, 'onError'>> & Pick<PostgresChangeFeedOptions, 'onError'>
  readonly #listeners = new Listeners()
  /** Marks our own notices, which our listeners already heard when they were published. */
  readonly #origin = randomUUID()
  #client: pg.Client | undefined
  #closed = false
  #connectedOnce = false
  #retryTimer: NodeJS.Timeout | undefined
  #heartbeat: NodeJS.Timeout | undefined
  #delay: number
  #ready: Promise<void> | undefined

  constructor(db: Kysely<Database>, connectionString: string, options: PostgresChangeFeedOptions) {
    this.#db = db
    this.#connectionString = connectionString
    this.#options = { retryMs: 250, maxRetryMs: 5000, heartbeatMs: 15_000, ...options }
    this.#delay = this.#options.retryMs
    if (options.listen) this.#ready = this.#connect()
  }

  /** Resolves once the listening connection is up the first time (or at once when not listening). */
  async ready(): Promise<void> {
    await this.#ready
  }

  get listening(): boolean {
    return this.#client !== undefined
  }

  async publish(change: Change): Promise<void> {
    this.#listeners.emit(change)
    const payload = JSON.stringify({ ...change, origin: this.#origin })
    await sql`SELECT pg_notify(${CHANGE_CHANNEL}, ${payload})`.execute(this.#db)
  }

  subscribe(listener: ChangeListener): () => void {
    return this.#listeners.add(listener)
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#retryTimer)
    clearInterval(this.#heartbeat)
    const client = this.#client
    this.#client = undefined
    await client?.end().catch(() => {})
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#connectionString, connectionTimeoutMillis: 3000, keepAlive: true })
    client.on('notification', (message) => {
      if (message.channel !== CHANGE_CHANNEL || message.payload === undefined) return
      if (message.payload.includes(this.#origin)) return
      const change = parseChange(message.payload)
      if (change) this.#listeners.emit(change)
    })
    // A broken connection reports 'error' and/or 'end'; either way, start again.
    client.on('error', (error) => this.#lost(client, error))
    client.on('end', () => this.#lost(client, undefined))
    try {
      await client.connect()
      await client.query(`LISTEN ${CHANGE_CHANNEL}`)
    } catch (error) {
      this.#lost(client, error)
      return
    }
    if (this.#closed) {
      await client.end().catch(() => {})
      return
    }
    this.#client = client
    this.#delay = this.#options.retryMs
    this.#heartbeat = setInterval(() => {
      client.query('SELECT 1').catch((error: unknown) => this.#lost(client, error))
    }, this.#options.heartbeatMs)
    this.#heartbeat.unref()
    if (this.#connectedOnce) this.#listeners.emit({ kind: 'resync' })
    this.#connectedOnce = true
  }

  #lost(client: pg.Client, error: unknown): void {
    if (error !== undefined && !this.#closed) this.#options.onError?.(error)
    if (this.#client === client) {
      this.#client = undefined
      clearInterval(this.#heartbeat)
    }
    client.removeAllListeners('end')
    client.on('error', () => {})
    client.end().catch(() => {})
    if (this.#closed || this.#retryTimer !== undefined) return
    // Whatever changed while we were away is unknown: reconnect, then resync.
    this.#connectedOnce = true
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      if (!this.#closed) void this.#connect()
    }, this.#delay)
    this.#retryTimer.unref()
    this.#delay = Math.min(this.#delay * 2, this.#options.maxRetryMs)
  }
}
