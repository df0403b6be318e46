/**
 * What to do around one store call: given the operation (the method's name) once, a function
 * that receives the call's own promise and returns the one the caller gets.
 */
export type AroundStoreCall = (operation: string) => (call: Promise<unknown>, startedAt: bigint) => Promise<unknown>

/**
 * A proxy over `store` whose methods that return a promise (database calls) go through
 * `around`; other members pass unchanged. Wrappers are made once per method name, so a call
 * costs one timer read and whatever `around` does. Metrics and tracing both wrap the store
 * this way (metrics.ts, tracing/traced-store.ts).
 */
export function aroundStoreCalls<T extends object>(store: T, around: AroundStoreCall): T {
  const wrappers = new Map<PropertyKey, unknown>()
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      let wrapper = wrappers.get(property)
      if (!wrapper) {
        const method = value as (...args: unknown[]) => unknown
        const aroundCall = around(String(property))
        wrapper = (...args: unknown[]): unknown => {
          const startedAt = process.hrtime.bigint()
          const result = method.apply(target, args)
          // A method that returns no promise is no database call.
          return result instanceof Promise ? aroundCall(result, startedAt) : result
        }
        wrappers.set(property, wrapper)
      }
      return wrapper
    },
  })
}
