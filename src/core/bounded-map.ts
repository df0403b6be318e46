/**
 * A Map of at most `capacity` entries that evicts the least recently used one instead of
 * growing or being cleared: a JS Map keeps insertion order, so a read or write that deletes and
 * re-sets its key keeps the oldest entry first.
 *
 * `keep` marks entries worth more than their age (a live lock, a drained rate limit bucket):
 * eviction passes over up to `scanLimit` of them, moving each to the recent end, before it
 * evicts an expendable one, so a flood of fresh keys pushes out other fresh keys rather than
 * the state an attacker wants gone. Only when the oldest `scanLimit` are all kept is the oldest
 * evicted anyway: memory stays bounded and one insert costs at most `scanLimit` steps.
 */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, V>()
  readonly #capacity: number
  readonly #keep: ((value: V, key: K) => boolean) | undefined
  readonly #scanLimit: number

  constructor(capacity: number, options: { keep?: (value: V, key: K) => boolean; scanLimit?: number } = {}) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer')
    this.#capacity = capacity
    this.#keep = options.keep
    this.#scanLimit = options.scanLimit ?? 64
  }

  /** The value, marked as just used. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key)
    if (value !== undefined) {
      this.#entries.delete(key)
      this.#entries.set(key, value)
    }
    return value
  }

  /** The value, without marking it used. */
  peek(key: K): V | undefined {
    return this.#entries.get(key)
  }

  has(key: K): boolean {
    return this.#entries.has(key)
  }

  /** Stores the value as the most recently used; a new key at capacity evicts one entry first. */
  set(key: K, value: V): void {
    if (this.#entries.has(key)) this.#entries.delete(key)
    else if (this.#entries.size >= this.#capacity) this.#evictOne()
    this.#entries.set(key, value)
  }

  delete(key: K): boolean {
    return this.#entries.delete(key)
  }

  clear(): void {
    this.#entries.clear()
  }

  get size(): number {
    return this.#entries.size
  }

  /** Oldest first. Deleting the current entry while iterating is safe (Map semantics). */
  entries(): IterableIterator<[K, V]> {
    return this.#entries.entries()
  }

  #evictOne(): void {
    for (let scanned = 0; scanned < this.#scanLimit; scanned++) {
      const oldest = this.#entries.entries().next()
      if (oldest.done) return
      const [key, value] = oldest.value
      this.#entries.delete(key)
      if (!this.#keep?.(value, key)) return
      this.#entries.set(key, value)
    }
    const oldest = this.#entries.keys().next()
    if (!oldest.done) this.#entries.delete(oldest.value)
  }
}
