import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { loadConfig } from '../../src/config.js'
import { ManualClock } from '../../src/core/clock.js'
import { request, type HttpAnswer } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

const FORGED = ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']

async function auditIps(server: TestServer): Promise<(string | null)[]> {
  await server.server.gatehouse.audit.flush()
  return (await server.server.gatehouse.audit.list({ limit: 50, action: 'client.authentication_failed' })).map((event) => event.ip)
}

/** The test client connects from 127.0.0.1: that socket address is the "proxy". */
function wrongSecret(server: TestServer, client: { id: string }, forwardedFor: string): Promise<HttpAnswer> {
  return request(`${server.url}/oauth/token`, {
    form: { grant_type: 'client_credentials' },
    basic: { id: client.id, secret: 'not-the-secret-000' },
    headers: { 'x-forwarded-for': forwardedFor },
  })
}

describe('X-Forwarded-For is read from the right (GATEHOUSE_TRUST_PROXY=true: one proxy hop)', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1))
  let server: TestServer
  let client: { id: string; secret: string }
  before(async () => {
    server = await startTestServer({ clock, env: { GATEHOUSE_TRUST_PROXY: 'true', GATEHOUSE_RATE_LIMIT_IP: '3/1m' } })
    client = await server.createClient()
  })
  after(() => server.close())

  it('keeps one rate limit bucket for a client that prepends a different forged address each time', async () => {
    const statuses: number[] = []
    for (const forged of FORGED) statuses.push((await wrongSecret(server, client, `${forged}, 198.51.100.7`)).status)
    assert.deepEqual(statuses, [401, 401, 401, 429])
    clock.advance(60_000)
  })

  it('records the address the proxy saw, not the forged one, in the audit log', async () => {
    const answer = await wrongSecret(server, client, '203.0.113.9, 198.51.100.8')
    assert.equal(answer.status, 401)
    const ips = await auditIps(server)
    assert.equal(ips[0], '198.51.100.8')
    assert.ok(!ips.some((ip) => ip?.startsWith('203.0.113.')), `no forged address in ${JSON.stringify(ips)}`)
  })
})

describe('X-Forwarded-For with GATEHOUSE_TRUSTED_PROXIES: the rightmost address that is not a trusted proxy', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1))
  let server: TestServer
  let client: { id: string; secret: string }
  before(async () => {
    server = await startTestServer({ clock, env: { GATEHOUSE_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8', GATEHOUSE_RATE_LIMIT_IP: '3/1m' } })
    client = await server.createClient()
  })
  after(() => server.close())

  it('skips the trusted proxies on the right and ignores forged addresses on the left', async () => {
    const statuses: number[] = []
    for (const forged of FORGED) statuses.push((await wrongSecret(server, client, `${forged}, 198.51.100.20, 10.1.2.3`)).status)
    assert.deepEqual(statuses, [401, 401, 401, 429])
    const ips = await auditIps(server)
    assert.deepEqual(ips.slice(0, 3), ['198.51.100.20', '198.51.100.20', '198.51.100.20'])
    clock.advance(60_000)
  })
})

describe('trusted proxy settings', () => {
  const base = { GATEHOUSE_SECRET: 'x'.repeat(32) }
  it('parses addresses, CIDRs and the names proxy-addr knows', () => {
    assert.deepEqual(loadConfig({}, { ...base, GATEHOUSE_TRUSTED_PROXIES: '10.0.0.0/8, ::1, fd00::/8,loopback' }).trustedProxies, ['10.0.0.0/8', '::1', 'fd00::/8', 'loopback'])
    assert.deepEqual(loadConfig({ trustedProxies: '192.0.2.1' }, base).trustedProxies, ['192.0.2.1'])
    assert.deepEqual(loadConfig({}, base).trustedProxies, [])
  })
  it('refuses an entry that is neither an address nor a CIDR, naming it', () => {
    assert.throws(() => loadConfig({}, { ...base, GATEHOUSE_TRUSTED_PROXIES: '10.0.0.0/33' }), /GATEHOUSE_TRUSTED_PROXIES.*"10\.0\.0\.0\/33"/)
    assert.throws(() => loadConfig({}, { ...base, GATEHOUSE_TRUSTED_PROXIES: 'proxy.example.com' }), /GATEHOUSE_TRUSTED_PROXIES.*"proxy\.example\.com"/)
  })
  it('refuses a list of proxies with GATEHOUSE_TRUST_PROXY=false', () => {
    assert.throws(() => loadConfig({}, { ...base, GATEHOUSE_TRUST_PROXY: 'false', GATEHOUSE_TRUSTED_PROXIES: '10.0.0.1' }), /GATEHOUSE_TRUST_PROXY/)
  })
})
