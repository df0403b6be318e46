/**
 * Port: spans around the steps of a request (client authentication, the grant, store calls,
 * outgoing fetches). The core owns it; src/tracing implements it with OpenTelemetry, loaded only
 * when tracing is configured. Without a tracer (the default) the steps run as they are.
 *
 * Attributes name steps and identifiers (client id, grant type, operation), never a value a
 * caller sent as a credential: no secret, token, code, password or API key.
 */
export type SpanAttributes = Readonly<Record<string, string | number | boolean>>

/** What a step may add to its span once it knows more (e.g. the authenticated client's id). */
export interface SpanNotes {
  set(attributes: SpanAttributes): void
}

export interface Tracer {
  /**
   * Runs `work` in a child span of the current one, ended when the promise settles. A rejection
   * is recorded by its kind (an OAuth error code or the error's class name), never its message.
   */
  span<T>(name: string, options: { attributes?: SpanAttributes; kind?: 'internal' | 'client' }, work: (notes: SpanNotes) => Promise<T>): Promise<T>
}

const NO_NOTES: SpanNotes = { set() {} }

/** `work` in a span when there is a tracer; called directly (no span, no allocation of one) otherwise. */
export function traced<T>(tracer: Tracer | undefined, name: string, attributes: SpanAttributes, work: (notes: SpanNotes) => Promise<T>): Promise<T> {
  return tracer ? tracer.span(name, { attributes }, work) : work(NO_NOTES)
}
