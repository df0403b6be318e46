import type { Tracer } from '../core/tracer.js'

/**
 * A span (`store <operation>`, kind client) around every method of `store` that returns a
 * promise. It names the operation and the database system, never an argument or a result: the
 * store is handed secrets' hashes, tokens' ids and codes. Wrappers are made once per method name.
 */
export function traceStore<T extends object>(store: T, tracer: Tracer, system: 'sqlite' | 'postgresql'): T {
  const wrappers = new Map<PropertyKey, unknown>()
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      let wrapper = wrappers.get(property)
      if (!wrapper) {
        const operation = String(property)
        const method = value as (...args: unknown[]) => unknown
        const attributes = { 'db.system.name': system, 'db.operation.name': operation }
        wrapper = (...args: unknown[]): unknown => {
          const result = method.apply(target, args)
          // A method that returns no promise is no database call: no span.
          if (!(result instanceof Promise)) return result
          return tracer.span(`store ${operation}`, { kind: 'client', attributes }, () => result)
        }
        wrappers.set(property, wrapper)
      }
      return wrapper
    },
  })
}
