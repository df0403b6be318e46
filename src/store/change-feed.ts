import type { Change } from '../core/changes.js'

/**
 * What a listener hears: a change, or `resync` when notices may have been missed (the
 * listening connection was lost and is back), so every cached record should be dropped.
 */
export type ChangeNotice = Change | { kind: 'resync' }

export type ChangeListener = (notice: ChangeNotice) => void

/**
 * Carries cache-invalidation notices between instances that share a database. The publisher's
 * own listeners hear a change at once; other instances hear it as fast as the feed carries it.
 */
export interface ChangeFeed {
  publish(change: Change): Promise<void>
  subscribe(listener: ChangeListener): () => void
  close(): Promise<void>
}

/** Delivers notices to the listeners of this process. */
export class Listeners {
  readonly #listeners = new Set<ChangeListener>()

  add(listener: ChangeListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  emit(notice: ChangeNotice): void {
    for (const listener of this.#listeners) listener(notice)
  }
}

/**
 * The feed of a database that cannot notify other processes (SQLite): changes reach this
 * process's listeners only. Other processes on the same file rely on their cache lifetimes
 * (GATEHOUSE_CLIENT_CACHE_TTL_MS, GATEHOUSE_KEY_RELOAD_INTERVAL_MS); see docs/scaling.md.
 */
export class LocalChangeFeed implements ChangeFeed {
  readonly #listeners = new Listeners()

  async publish(change: Change): Promise<void> {
    this.#listeners.emit(change)
  }

  subscribe(listener: ChangeListener): () => void {
    return this.#listeners.add(listener)
  }

  async close(): Promise<void> {}
}

/** Parses a notice payload; anything not of the known shapes is ignored. */
export function parseChange(payload: string): Change | undefined {
  let value: unknown
  try {
    value = JSON.parse(payload)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const { kind, id } = value as { kind?: unknown; id?: unknown }
  if (kind === 'signing-keys' || kind === 'apis') return { kind }
  if ((kind === 'client' || kind === 'api-key' || kind === 'access-token') && typeof id === 'string' && id !== '') return { kind, id }
  return undefined
}
