import assert from 'node:assert/strict'

export interface Answer {
  status: number
  headers: Headers
  text: string
}

/** A browser-like client: keeps cookies, does not follow redirects. */
export class Browser {
  readonly cookies = new Map<string, string>()
  constructor(readonly base: string) {}

  async go(path: string, form?: Record<string, string>): Promise<Answer> {
    const headers: Record<string, string> = {}
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded'
    const response = await fetch(`${this.base}${path}`, { method: form ? 'POST' : 'GET', headers, redirect: 'manual', ...(form ? { body: new URLSearchParams(form).toString() } : {}) })
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const [name = '', value = ''] = pair.split('=')
      if (/Max-Age=0|Expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return { status: response.status, headers: response.headers, text: await response.text() }
  }

  /**
   * Posts a form; when it answers 303 to a credentials page (Generate, Rotate: Post/Redirect/Get),
   * checks that answer and follows it, as a browser does.
   */
  async submit(path: string, form: Record<string, string>): Promise<Answer> {
    const posted = await this.go(path, form)
    const location = posted.headers.get('location') ?? ''
    if (posted.status !== 303 || !/^\/console\/apps\/[^/]+\/credentials$/.test(location)) return posted
    assert.deepEqual([posted.headers.get('cache-control'), posted.text], ['no-store', ''])
    return this.go(location)
  }

  static csrf(page: Answer): string {
    const match = /name="_csrf" value="([^"]+)"/.exec(page.text)
    assert.ok(match?.[1], 'page has a CSRF field')
    return match[1]
  }

  async signIn(username: string, password: string): Promise<Answer> {
    const login = await this.go('/console/login')
    return this.go('/console/login', { _csrf: Browser.csrf(login), username, password })
  }
}

/** The text of the page's error alert, unescaped. */
export function alertText(page: Answer): string {
  const raw = /<div class="alert error" role="alert">([^<]*)<\/div>/.exec(page.text)?.[1] ?? ''
  return raw.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
}

