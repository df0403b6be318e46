/** One HTTP request to show as code: what an OpenAPI example or the console describes. */
export interface SnippetRequest {
  method: string
  /** Absolute URL, query string included. */
  url: string
  /** In the order they are to be sent; names as the reader should see them. */
  headers?: readonly (readonly [name: string, value: string])[]
  body?: { form: Readonly<Record<string, string>> } | { json: unknown }
}

/** Basic credentials as RFC 7617 §2 builds them (RFC 6749 §2.3.1 form-encodes id and secret first). */
export function basicAuthorization(id: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`
}
