import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../../src/config.js'
import { DEFAULT_DIALECT_PATHS } from '../../src/dialect-config.js'
import { startTestServer, TEST_SECRET } from '../helpers/server.js'
import { request } from '../helpers/http.js'
import { runCli } from '../helpers/processes.js'

const ENV = { GATEHOUSE_SECRET: TEST_SECRET }

function configFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gatehouse-config-')), 'gatehouse.json')
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

describe('dialect configuration', () => {
  it('turns every seed dialect on, on the seeds\' paths, by default', () => {
    const { dialects } = loadConfig({}, ENV)
    assert.deepEqual(dialects, {
      canary: { enabled: true, paths: DEFAULT_DIALECT_PATHS.canary },
      identityserver: { enabled: true, paths: DEFAULT_DIALECT_PATHS.identityserver },
      wrapped: { enabled: true, paths: DEFAULT_DIALECT_PATHS.wrapped },
    })
  })

  it('reads the config file, then the environment, then flags, the stronger winning', () => {
    const file = configFile({
      dialects: { canary: { enabled: false }, wrapped: { paths: { token: '/v1/oauth/token' } }, identityserver: { paths: { token: '/file/token' } } },
    })
    const fromFile = loadConfig({ configFile: file }, ENV).dialects
    assert.deepEqual([fromFile.canary.enabled, fromFile.wrapped.paths.token, fromFile.identityserver.paths.token], [false, '/v1/oauth/token', '/file/token'])

    const env = { ...ENV, GATEHOUSE_CONFIG: file, GATEHOUSE_DIALECTS: 'canary,identityserver', GATEHOUSE_DIALECT_PATHS: 'identityserver.token=/env/token' }
    const fromEnv = loadConfig({}, env).dialects
    assert.deepEqual([fromEnv.canary.enabled, fromEnv.wrapped.enabled, fromEnv.identityserver.paths.token], [true, false, '/env/token'])

    const fromFlags = loadConfig({ dialects: 'none', dialectPaths: ['identityserver.token=/flag/token'] }, env).dialects
    assert.deepEqual([fromFlags.canary.enabled, fromFlags.identityserver.enabled, fromFlags.identityserver.paths.token], [false, false, '/flag/token'])
  })

  const failures: [string, () => unknown, string][] = [
    ['an unknown dialect name', () => loadConfig({ dialects: 'canary,soap' }, ENV), '--dialects: unknown dialect "soap" (use canary, identityserver, wrapped or none)'],
    ['an unknown route', () => loadConfig({ dialectPaths: ['wrapped.login=/v1/login'] }, ENV), '--dialect-path: wrapped has no route "login" (routes: token, notFoundPrefix)'],
    ['a path with a parameter', () => loadConfig({ dialectPaths: ['canary.requestTokens=/v2/:id'] }, ENV), '--dialect-path: canary.requestTokens must be a path such as /a/b, without parameters or wildcards (got "/v2/:id")'],
    ['a malformed setting', () => loadConfig({}, { ...ENV, GATEHOUSE_DIALECT_PATHS: 'canary' }), 'GATEHOUSE_DIALECT_PATHS: expected dialect.route=/path (got "canary")'],
    ['a path the standard endpoints use', () => loadConfig({ dialectPaths: ['identityserver.token=/oauth/token'] }, ENV), 'identityserver.token uses /oauth/token, which a standard endpoint already uses'],
    ['two dialects on one path', () => loadConfig({ dialectPaths: ['canary.getTokens=/connect/token'] }, ENV), 'identityserver.token uses /connect/token, which canary.getTokens already uses'],
    ['a wrapped token path outside its prefix', () => loadConfig({ dialectPaths: ['wrapped.token=/api/token'] }, ENV), 'wrapped.token (/api/token) must lie under wrapped.notFoundPrefix (/v1/)'],
    ['a missing config file', () => loadConfig({ configFile: '/nonexistent/gatehouse.json' }, ENV), 'cannot read config file /nonexistent/gatehouse.json: ENOENT'],
    ['a config file that is not an object', () => loadConfig({ configFile: configFile('[]') }, ENV), 'must hold a JSON object'],
    ['a mistyped setting in the file', () => loadConfig({ configFile: configFile({ dialects: { canary: { enabled: 'no' } } }) }, ENV), 'dialects.canary.enabled must be true or false'],
    ['an unknown setting in the file', () => loadConfig({ configFile: configFile({ dialects: { canary: { path: {} } } }) }, ENV), 'dialects.canary.path is not a setting (enabled, paths)'],
  ]
  for (const [name, load, message] of failures) {
    it(`refuses to start on ${name}, saying what is wrong`, () => {
      assert.throws(load, (error: unknown) => {
        assert.ok(error instanceof ConfigError)
        assert.ok(error.message.includes(message), `${error.message} should include ${message}`)
        return true
      })
    })
  }

  it('refuses a config file that is not JSON', () => {
    const path = configFile('{ dialects: ')
    assert.throws(() => loadConfig({ configFile: path }, ENV), (error: unknown) => error instanceof ConfigError && error.message.startsWith(`config file ${path} is not valid JSON`))
  })

  it('serves moved paths and not the old ones; a dialect turned off answers 404', async () => {
    const server = await startTestServer({
      env: { GATEHOUSE_DIALECTS: 'wrapped,identityserver', GATEHOUSE_DIALECT_PATHS: 'wrapped.notFoundPrefix=/api/v1/,wrapped.token=/api/v1/auth/token' },
    })
    try {
      const client = await server.createClient()
      const moved = await request(`${server.url}/api/v1/auth/token`, { form: { client_id: client.id, client_secret: client.secret } })
      assert.equal(moved.status, 200, moved.text)
      const unknown = await request(`${server.url}/api/v1/nothing`)
      assert.deepEqual([unknown.status, (unknown.body as { error: { code: string } }).error.code], [404, '404001'])
      const old = await request(`${server.url}/v1/auth/token`, { form: { client_id: client.id, client_secret: client.secret } })
      assert.deepEqual([old.status, old.body], [404, { error: 'not_found', error_description: 'No route for POST /v1/auth/token.' }])
      const canary = await request(`${server.url}/v2/oauth/request-tokens`, { method: 'POST', headers: { 'Csc-Api-Key': 'x' } })
      assert.equal(canary.status, 404)
      // The metadata document keeps naming the standard endpoints only.
      const metadata = (await request(`${server.url}/.well-known/oauth-authorization-server`)).body as Record<string, unknown>
      assert.equal(metadata.token_endpoint, `${server.url}/oauth/token`)
      assert.deepEqual(metadata.grant_types_supported, ['client_credentials', 'password', 'refresh_token', 'authorization_code', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange'])
    } finally {
      await server.close()
    }
  })

  it('`gatehouse serve` refuses a bad config file before it starts, exit code 2', async () => {
    const path = configFile({ dialects: { wrapped: { paths: { token: 'v1/auth/token' } } } })
    const run = await runCli(['serve', '--port', '0', '--config', path], { env: { GATEHOUSE_DATABASE_URL: 'sqlite::memory:' } })
    assert.equal(run.code, 2)
    assert.equal(run.stderr.trim(), `gatehouse: config file ${path}: wrapped.token must be a path such as /a/b, without parameters or wildcards (got "v1/auth/token")`)
  })
})

describe('GET /oauth/token compatibility switch (seed 002)', () => {
  it('answers GET with 405, Allow: POST and invalid_request by default', async () => {
    const server = await startTestServer()
    try {
      const client = await server.createClient()
      const answer = await request(`${server.url}/oauth/token?grant_type=client_credentials&client_id=${client.id}&client_secret=${client.secret}`)
      assert.deepEqual(
        { status: answer.status, allow: answer.headers.get('allow'), body: answer.body },
        { status: 405, allow: 'POST', body: { error: 'invalid_request', error_description: 'Use POST: a GET would put credentials in the URL.' } },
      )
      assert.ok(!server.logs.text.includes('GET /oauth/token is enabled'))
    } finally {
      await server.close()
    }
  })

  it('accepts the query string when switched on, and warns at start-up', async () => {
    const server = await startTestServer({ env: { GATEHOUSE_ALLOW_GET_TOKEN: 'true' } })
    try {
      const client = await server.createClient()
      const answer = await request(`${server.url}/oauth/token?grant_type=client_credentials&client_id=${client.id}&client_secret=${encodeURIComponent(client.secret)}`)
      assert.equal(answer.status, 200, answer.text)
      assert.deepEqual(Object.keys(answer.body as object), ['access_token', 'token_type', 'expires_in', 'scope'])
      const warning = server.logs.lines.map((line) => JSON.parse(line) as { level: number; msg: string }).find((line) => line.msg.startsWith('GET /oauth/token is enabled'))
      assert.deepEqual(warning && { level: warning.level, msg: warning.msg }, {
        level: 40,
        msg: 'GET /oauth/token is enabled: client secrets will appear in URLs and access logs of any proxy in front of Gatehouse',
      })
      // The request log line names the path only, never the query string with the secret.
      assert.ok(!server.logs.text.includes(client.secret))
    } finally {
      await server.close()
    }
  })
})
