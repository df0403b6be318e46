export interface HttpAnswer {
  status: number
  headers: Headers
  text: string
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  body: unknown
}

export interface RequestOptions {
  method?: string
  form?: Record<string, string> | string
  json?: unknown
  /** Raw body with its own content type. */
  raw?: { contentType: string; body: string }
  /** client_secret_basic: both halves are form-urlencoded first (RFC 6749 §2.3.1). */
  basic?: { id: string; secret: string }
  headers?: Record<string, string>
}

export function basicHeader(id: string, secret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+')
  return 'Basic ' + Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')
}

export async function request(url: string, options: RequestOptions = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers }
  let body: string | undefined
  if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded'
    body = typeof options.form === 'string' ? options.form : new URLSearchParams(options.form).toString()
  } else if (options.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.json)
  } else if (options.raw) {
    headers['content-type'] = options.raw.contentType
    body = options.raw.body
  }
  if (options.basic) headers.authorization = basicHeader(options.basic.id, options.basic.secret)
  const response = await fetch(url, { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, ...(body !== undefined ? { body } : {}) })
  const text = await response.text()
  let parsed: unknown
  try {
    parsed = text === '' ? undefined : JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: response.status, headers: response.headers, text, body: parsed }
}

/** Decodes a JWT's payload without verifying it (for assertions only). */
export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
}

export function jwtHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>
}
