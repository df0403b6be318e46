import type { Tracer } from '../core/tracer.js'
import { aroundStoreCalls } from '../store/store-calls.js'

/**
 * A span (`store <operation>`, kind client) around every method of `store` that returns a
 * promise. It names the operation and the database system, never an argument or a result: the
 * store is handed secrets' hashes, tokens' ids and codes.
 */
export function traceStore<T extends object>(store: T, tracer: Tracer, system: 'sqlite' | 'postgresql'): T {
  return aroundStoreCalls(store, (operation) => {
    const attributes = { 'db.system.name': system, 'db.operation.name': operation }
    return (call) => tracer.span(`store ${operation}`, { kind: 'client', attributes }, () => call)
  })
}
