/**
 * The floor of every benchmark here: a bare Fastify server that parses the form body and
 * answers a small JSON object, on any POST path (no signing, no verifying, no lookup). What
 * Fastify and Node's HTTP stack cost per request before any OAuth work.
 *
 * `node --import tsx bench/servers/bare-fastify.ts PORT`
 */
import Fastify from 'fastify'
import formbody from '@fastify/formbody'

const port = Number(process.argv[2] ?? 0)
const app = Fastify()
await app.register(formbody)
app.post('/*', async (request) => {
  const body = request.body as Record<string, string> | undefined
  return { ok: true, grant_type: body?.grant_type ?? null }
})
await app.listen({ host: '127.0.0.1', port })
process.stdout.write(`listening ${(app.server.address() as { port: number }).port}\n`)
