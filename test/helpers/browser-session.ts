/**
 * A browser without a browser: fetch with a cookie jar and manual redirects, for exact
 * statuses, headers and pages of the hosted sign-in flow. Chromium drives the same pages in
 * test/e2e; this is for the many error cases.
 */
export interface PageAnswer {
  status: number
  headers: Headers
  text: string
  /** The Location header, resolved against the request URL. */
  location: string | undefined
}

export class CookieBrowser {
  readonly #cookies = new Map<string, string>()
  constructor(readonly base: string) {}

  cookie(name: string): string | undefined {
    return this.#cookies.get(name)
  }

  setCookie(name: string, value: string): void {
    this.#cookies.set(name, value)
  }

  clearCookies(): void {
    this.#cookies.clear()
  }

  async get(path: string): Promise<PageAnswer> {
    return this.#fetch(path, { method: 'GET' })
  }

  async post(path: string, form: Record<string, string>): Promise<PageAnswer> {
    return this.#fetch(path, { method: 'POST', body: new URLSearchParams(form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  }

  async #fetch(path: string, init: { method: string; body?: string; headers?: Record<string, string> }): Promise<PageAnswer> {
    const url = new URL(path, this.base)
    const cookieHeader = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, ...(cookieHeader ? { cookie: cookieHeader } : {}) } })
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      if (/max-age=0\b|expires=thu, 01 jan 1970/i.test(line) || value === '') this.#cookies.delete(name)
      else this.#cookies.set(name, value)
    }
    const location = response.headers.get('location')
    return { status: response.status, headers: response.headers, text: await response.text(), location: location === null ? undefined : new URL(location, url).toString() }
  }
}

/** The value of a hidden (or any) input in a page. */
export function inputValue(page: string, name: string): string {
  const match = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(page)
  if (!match) throw new Error(`no input ${name} in the page`)
  return (match[1] ?? '').replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>')
}
