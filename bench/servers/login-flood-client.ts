/**
 * The flood of `npm run bench -- login-flood`, in a process of its own: on `prepare` it fetches
 * SIZE fresh console sign-in forms and opens a connection for each, on `burst` it posts a wrong
 * password (for a new username each time) on all of them at once and answers with the statuses. Usage (forked by the bench): login-flood-client.ts URL SIZE.
 */
import { Agent, request as httpRequest } from 'node:http'
import { connect, type Socket } from 'node:net'

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

/**
 * The burst is written as prepared bytes on sockets opened beforehand, and an answer is read only
 * as far as its status line: the attacker's own work stays off the two cores the server has (an
 * attacker's CPU is not the server's), so what the figures show is the server's.
 */
interface Armed {
  socket: Socket
  bytes: Buffer
  status: Promise<number>
}

let armed: Armed[] = []
const target = new URL(url)

function arm(form: { cookie: string; csrf: string }, n: number): Promise<Armed> {
  // A different username each time: no lockout or per-username slowdown steps in, so every
  // attempt costs a full password check (the worst case for the hash queue).
  const body = new URLSearchParams({ _csrf: form.csrf, username: `target${n}-${Date.now()}@example.com`, password: 'wrong password' }).toString()
  const bytes = Buffer.from(`POST /console/login HTTP/1.1\r\nHost: ${target.host}\r\nCookie: ${form.cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.hostname, port: Number(target.port), localAddress: '127.0.0.1' }, () => {
      const status = new Promise<number>((done) => {
        let head = ''
        socket.on('data', (chunk: Buffer) => {
          if (head.length < 16) head += chunk.toString('latin1', 0, 16)
        })
        socket.once('close', () => done(Number(head.slice(9, 12)) || 0))
        socket.once('error', () => done(0))
      })
      resolve({ socket, bytes, status })
    })
    socket.once('error', reject)
  })
}

process.on('message', (message: { do: 'prepare' | 'burst' }) => {
  if (message.do === 'prepare') {
    void Promise.all(
      Array.from({ length: size }, async () => {
        const form = await send('/console/login')
        return { cookie: form.cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '' }
      }),
    )
      .then((fetched) => Promise.all(fetched.map((form, index) => arm(form, index))))
      .then((ready) => {
        armed = ready
        process.send?.({})
      })
    return
  }
  for (const { socket, bytes } of armed) socket.write(bytes)
  void Promise.all(armed.map(({ status }) => status)).then((answered) => {
    const statuses: Record<string, number> = {}
    for (const status of answered) statuses[status] = (statuses[status] ?? 0) + 1
    process.send?.({ statuses })
  })
})
