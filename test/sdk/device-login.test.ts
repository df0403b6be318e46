import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { deviceLogin, TokenClientError, type DeviceCodePrompt } from '../../src/sdk/client.js'
import { ManualClock } from '../../src/core/clock.js'
import { DEVICE_CODE_GRANT } from '../../src/core/types.js'
import { approveDevice } from '../helpers/device.js'
import { jwtPayload } from '../helpers/http.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { recordingFetch } from './support.js'

const PASSWORD = 'correct horse battery'
const ANN = { username: 'ann@example.com', password: PASSWORD }
const EXAMPLE = fileURLToPath(new URL('../../examples/device-login/login.mjs', import.meta.url))
const BUILT_CLIENT = fileURLToPath(new URL('../../dist/sdk/client.js', import.meta.url))

async function publicDeviceClient(server: TestServer, scopes = ['openid', 'profile', 'email', 'offline_access']): Promise<string> {
  const { client } = await server.server.gatehouse.clients.create({ name: 'Example CLI', tokenEndpointAuthMethod: 'none', grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'], scopes })
  return client.id
}

/**
 * `deviceLogin` (gatehouse/client) against the real server: it starts the flow, hands over the
 * code, and polls while the test approves through the cookie browser. With real time (one
 * 5-second interval) and with a ManualClock the SDK's sleeps move, for slow_down and expiry.
 */
describe('deviceLogin against the real server, in real time', () => {
  let server: TestServer
  let clientId: string

  before(async () => {
    server = await startTestServer()
    await server.createUser(ANN.username, PASSWORD, 'Ann')
    clientId = await publicDeviceClient(server)
  })
  after(() => server.close())

  it('shows the code, polls after the interval while the person approves, and resolves with the tokens', async () => {
    const recorder = recordingFetch()
    const prompts: DeviceCodePrompt[] = []
    let approved: Promise<unknown> = Promise.resolve()
    const startedAt = Date.now()
    const tokens = await deviceLogin({
      issuer: server.url,
      clientId,
      scope: ['openid', 'email', 'offline_access'],
      fetch: recorder.fetch,
      onCode(prompt) {
        prompts.push(prompt)
        // The person, elsewhere, while the SDK waits.
        approved = approveDevice(server.url, prompt.userCode, ANN)
      },
    })
    await approved
    assert.ok(Date.now() - startedAt >= 5000, 'the first poll waited the interval')
    assert.equal(prompts.length, 1)
    const [prompt] = prompts
    assert.match(prompt?.userCode ?? '', /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/)
    assert.equal(prompt?.verificationUri, `${server.url}/device`)
    assert.equal(prompt?.verificationUriComplete, `${server.url}/device?user_code=${prompt?.userCode}`)
    assert.equal(prompt?.expiresIn, 600)
    assert.equal(tokens.tokenType, 'Bearer')
    assert.equal(tokens.scope, 'email offline_access openid')
    assert.ok(tokens.refreshToken)
    assert.equal(jwtPayload(tokens.idToken ?? '').email, ANN.username)
    assert.equal(typeof tokens.expiresIn, 'number')
    // A public client: client_id in the body, no Authorization header.
    const [start] = recorder.to('/oauth/device_authorization')
    assert.deepEqual(Object.fromEntries(new URLSearchParams(start?.body)), { scope: 'openid email offline_access', client_id: clientId })
    assert.equal(start?.headers.get('authorization'), null)
    const polls = recorder.to('/oauth/token').map((call) => new URLSearchParams(call.body).get('grant_type'))
    assert.ok(polls.length >= 1 && polls.every((grant) => grant === DEVICE_CODE_GRANT))
    const userinfo = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.accessToken}` } })
    assert.equal(((await userinfo.json()) as { email: string }).email, ANN.username)
  })

  it('examples/device-login prints the code and the URL like gh auth login, then who signed in', { skip: existsSync(BUILT_CLIENT) ? false : 'run npm run build first (the example imports gatehouse/client from dist)' }, async () => {
    const child = spawn(process.execPath, [EXAMPLE, '--issuer', server.url, '--client-id', clientId], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const code = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        const match = /^! First copy your one-time code: (\S+)$/m.exec(stdout)
        if (match && stdout.includes('in your browser\n')) resolve(match[1] ?? '')
      })
      child.once('exit', () => reject(new Error(`the example exited early: ${stdout}${stderr}`)))
    })
    assert.match(stdout, new RegExp(`^Open ${server.url.replace(/[.]/g, '\\.')}/device in your browser$`, 'm'))
    await approveDevice(server.url, code, ANN)
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve))
    assert.equal(exitCode, 0, stderr)
    assert.match(stdout, /^✓ Logged in as Ann <ann@example\.com>$/m)
  })
})

describe('deviceLogin with a ManualClock: slow_down, denial, expiry, failures, dialects', () => {
  let server: TestServer
  let clock: ManualClock
  let clientId: string

  before(async () => {
    clock = new ManualClock(Date.now())
    server = await startTestServer({ clock })
    await server.createUser(ANN.username, PASSWORD, 'Ann')
    clientId = await publicDeviceClient(server)
  })
  after(() => server.close())

  it('after slow_down it waits 5 s longer, from then on (RFC 8628 §3.5)', async () => {
    const asked: number[] = []
    let userCode = ''
    const tokens = await deviceLogin({
      issuer: server.url,
      clientId,
      scope: 'openid',
      clock,
      onCode: (prompt) => {
        userCode = prompt.userCode
      },
      // A device whose timer runs fast on the second wait (1 s instead of 5): the server says slow_down.
      async sleep(ms) {
        asked.push(ms)
        clock.advance(asked.length === 2 ? 1000 : ms)
        if (asked.length === 3) await approveDevice(server.url, userCode, ANN)
      },
    })
    assert.deepEqual(asked, [5000, 5000, 10_000])
    assert.ok(tokens.accessToken)
  })

  it('rejects with access_denied when the person denies', async () => {
    await assert.rejects(
      deviceLogin({
        issuer: server.url,
        clientId,
        clock,
        onCode: (prompt) => approveDevice(server.url, prompt.userCode, ANN, 'deny').then(() => {}),
        sleep: async (ms) => clock.advance(ms),
      }),
      (error: unknown) => error instanceof TokenClientError && error.code === 'access_denied' && error.status === 400 && error.dialect === 'standard',
    )
  })

  it("rejects with expired_token: the server's when it says so, its own when the lifetime ran out", async () => {
    const frozen = { now: () => 0 }
    await assert.rejects(
      deviceLogin({ issuer: server.url, clientId, clock: frozen, onCode: () => {}, sleep: async (ms) => clock.advance(ms + 600_000) }),
      (error: unknown) => error instanceof TokenClientError && error.code === 'expired_token' && error.status === 400,
    )
    const recorder = recordingFetch()
    await assert.rejects(
      deviceLogin({ issuer: server.url, clientId, clock, fetch: recorder.fetch, onCode: () => {}, sleep: async (ms) => clock.advance(ms + 600_000) }),
      (error: unknown) => error instanceof TokenClientError && error.code === 'expired_token' && error.status === undefined,
    )
    assert.equal(recorder.to('/oauth/token').length, 0, 'no poll after the deadline')
  })

  it('backs off after a failed request, and stops when aborted', async () => {
    let failures = 1
    const flaky: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/oauth/token') && failures-- > 0) throw new TypeError('fetch failed')
      return fetch(input, init)
    }
    const asked: number[] = []
    let userCode = ''
    await deviceLogin({
      issuer: server.url,
      clientId,
      clock,
      fetch: flaky,
      onCode: (prompt) => {
        userCode = prompt.userCode
      },
      async sleep(ms) {
        asked.push(ms)
        clock.advance(ms)
        if (asked.length === 2) await approveDevice(server.url, userCode, ANN)
      },
    })
    assert.deepEqual(asked, [5000, 10_000])

    const stop = new AbortController()
    const reason = new Error('stopped by the test')
    await assert.rejects(
      deviceLogin({ issuer: server.url, clientId, clock, signal: stop.signal, onCode: () => stop.abort(reason) }),
      (error: unknown) => error === reason,
    )
  })

  it('rejects at once when the client is refused, without calling onCode', async () => {
    let called = false
    await assert.rejects(
      deviceLogin({ issuer: server.url, clientId: 'nobody', onCode: () => void (called = true) }),
      (error: unknown) => error instanceof TokenClientError && error.code === 'invalid_client' && error.status === 401,
    )
    assert.equal(called, false)
    await assert.rejects(deviceLogin({ clientId, onCode: () => {} }), TypeError)
  })

  it('speaks the IdentityServer dialect: /connect/deviceauthorization and /connect/token', async () => {
    const recorder = recordingFetch()
    const tokens = await deviceLogin({
      issuer: server.url,
      dialect: 'identityserver',
      clientId,
      scope: 'openid offline_access',
      clock,
      fetch: recorder.fetch,
      onCode: (prompt) => approveDevice(server.url, prompt.userCode, ANN).then(() => {}),
      sleep: async (ms) => clock.advance(ms),
    })
    assert.ok(tokens.refreshToken)
    assert.equal(recorder.to('/connect/deviceauthorization').length, 1)
    assert.equal(recorder.to('/connect/token').length, 1)
  })
})
