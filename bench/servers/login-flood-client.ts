/**
 * The flood of `npm run bench -- login-flood`, in a process of its own: on `prepare` it fetches
 * SIZE fresh console sign-in forms, on `burst` it posts a wrong password (for a new username each
 * time) with each at once and
 * answers with the statuses. Usage (forked by the bench): login-flood-client.ts URL SIZE.
 */
import { Agent, request as httpRequest } from 'node:http'

const [url = '', sizeText = '400'] = process.argv.slice(2)
const size = Number(sizeText)
const agent = new Agent({ keepAlive: true, maxSockets: size, localAddress: '127.0.0.1' })

function send(path: string, options: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; cookie: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method: options.method ?? 'GET', headers: options.headers, agent }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cookie: String(res.headers['set-cookie'] ?? '').split(';')[0] ?? '', body }))
    })
    req.once('error', reject)
    req.end(options.body)
  })
}

let forms: { cookie: string; csrf: string }[] = []

process.on('message', (message: { do: 'prepare' | 'burst' }) => {
  if (message.do === 'prepare') {
    void Promise.all(
      Array.from({ length: size }, async () => {
        const form = await send('/console/login')
        return { cookie: form.cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '' }
      }),
    ).then((fetched) => {
      forms = fetched
      process.send?.({})
    })
    return
  }
  // A different username each time: no lockout or per-username slowdown steps in, so every
  // attempt costs a full password check (the worst case for the hash queue).
  let n = 0
  const body = (csrf: string): string => new URLSearchParams({ _csrf: csrf, username: `target${++n}-${Date.now()}@example.com`, password: 'wrong password' }).toString()
  void Promise.all(
    forms.map((form) =>
      send('/console/login', { method: 'POST', body: body(form.csrf), headers: { cookie: form.cookie, 'content-type': 'application/x-www-form-urlencoded' } }).then(
        (answer) => answer.status,
        () => 0,
      ),
    ),
  ).then((answered) => {
    const statuses: Record<string, number> = {}
    for (const status of answered) statuses[status] = (statuses[status] ?? 0) + 1
    process.send?.({ statuses })
  })
})
