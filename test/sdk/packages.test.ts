import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { freePort, startTestServer, type TestServer } from '../helpers/server.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)

/**
 * The SDK packages as a stranger gets them: `npm pack` each one, `npm install` the tarball into an
 * empty folder, and run the README's examples there with plain node against the real server.
 * The registry is asked only for jose (the cache usually answers).
 */
describe('the SDK packages, packed and installed into empty folders', () => {
  let server: TestServer
  let work: string
  let client: { id: string; secret: string }
  const installed = { client: '', verify: '' }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'gatehouse-packages-'))
    server = await startTestServer()
    client = await server.createClient({ scopes: ['api', 'read'] })
    const [clientDir, verifyDir] = await Promise.all([packAndInstall('client'), packAndInstall('verify')])
    installed.client = clientDir
    installed.verify = verifyDir
  })
  after(async () => {
    await server?.close()
    if (work) await rm(work, { recursive: true, force: true })
  })

  /** `npm pack` packages/NAME (its prepack builds it), then install the tarball into NAME-app/. */
  async function packAndInstall(name: 'client' | 'verify'): Promise<string> {
    const tarballs = join(work, `${name}-tarball`)
    const app = join(work, `${name}-app`)
    await Promise.all([mkdir(tarballs), mkdir(app)])
    const { stdout } = await npm(['pack', '--pack-destination', tarballs, '--json'], join(root, 'packages', name))
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[]
    assert.ok(packed, `npm pack printed no result for ${name}`)
    // What is published: the README, the package.json and dist/ (no sources, no build info).
    assert.deepEqual(
      packed.files.map((file) => file.path).filter((path) => !/^dist\/.+\.(js|d\.ts)$/.test(path)).sort(),
      ['README.md', 'package.json'],
    )
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: `${name}-app`, private: true, type: 'module' }))
    await npm(['install', join(tarballs, packed.filename), '--prefer-offline', '--no-audit', '--no-fund'], app)
    return app
  }

  it('installs gatehouse-client with nothing beside it in node_modules', async () => {
    assert.deepEqual(await folders(join(installed.client, 'node_modules')), ['gatehouse-client'])
  })

  it('installs gatehouse-verify with jose only (fastify and express are optional peers)', async () => {
    assert.deepEqual(await folders(join(installed.verify, 'node_modules')), ['gatehouse-verify', 'jose'])
  })

  it("runs the client README's example: it prints an access token the verifier README's example accepts", async () => {
    const [tokenExample] = await readmeExamples('client')
    await writeFile(join(installed.client, 'token.mjs'), tokenExample ?? '')
    const token = await node(installed.client, 'token.mjs', { CLIENT_ID: client.id, CLIENT_SECRET: client.secret })
    assert.deepEqual({ code: token.code, stderr: token.stderr }, { code: 0, stderr: '' })
    const accessToken = token.stdout.trim()
    assert.match(accessToken, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)

    const [verifyExample] = await readmeExamples('verify')
    await writeFile(join(installed.verify, 'verify.mjs'), verifyExample ?? '')
    const verified = await node(installed.verify, 'verify.mjs', { ACCESS_TOKEN: accessToken })
    assert.deepEqual(verified, { code: 0, stdout: `${JSON.stringify({ subject: client.id, clientId: client.id, scopes: ['api'] })}\n`, stderr: '' })
  })

  it("the client README's example fails with the server's error for a wrong secret, without echoing it", async () => {
    const [tokenExample] = await readmeExamples('client')
    await writeFile(join(installed.client, 'token.mjs'), tokenExample ?? '')
    const refused = await node(installed.client, 'token.mjs', { CLIENT_ID: client.id, CLIENT_SECRET: 'not-the-secret' })
    assert.deepEqual(refused, { code: 1, stdout: '', stderr: 'no token: invalid_client (HTTP 401)\n' })
  })

  it("the verifier README's example refuses a tampered token with 401 invalid_token", async () => {
    const [header, payload] = (await issue('api')).split('.')
    const forged = `${header}.${payload}.${Buffer.from('forged signature').toString('base64url')}`
    const [verifyExample] = await readmeExamples('verify')
    await writeFile(join(installed.verify, 'verify.mjs'), verifyExample ?? '')
    const refused = await node(installed.verify, 'verify.mjs', { ACCESS_TOKEN: forged })
    assert.equal(refused.code, 1)
    assert.equal(refused.stdout, '')
    assert.match(refused.stderr, /^refused: 401 invalid_token \(.+\)\n$/)
    assert.ok(!refused.stderr.includes(forged), 'the token is not echoed')
  })

  for (const [framework, at] of [['fastify', 1], ['express', 2]] as const) {
    it(`runs the verifier README's ${framework} example, with the root's ${framework} linked in (not fetched): 200, 401, 403`, async () => {
      const example = (await readmeExamples('verify'))[at] ?? ''
      assert.match(example, new RegExp(`from 'gatehouse-verify/${framework}'`))
      await writeFile(join(installed.verify, `${framework}-api.mjs`), example)
      // The example's own `import … from '${framework}'`: a link to the repository's install.
      await symlink(join(root, 'node_modules', framework), join(installed.verify, 'node_modules', framework), 'dir')
      const port = await freePort()
      const api = spawn(process.execPath, [`${framework}-api.mjs`], { cwd: installed.verify, env: exampleEnv({ PORT: String(port) }), stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      api.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
      try {
        const things = `http://127.0.0.1:${port}/things`
        await waitUntilListening(things, api)

        const allowed = await fetch(things, { headers: { authorization: `Bearer ${await issue('api')}` } })
        assert.deepEqual({ status: allowed.status, body: await allowed.json() }, { status: 200, body: { caller: client.id } })

        const anonymous = await fetch(things)
        assert.deepEqual(
          { status: anonymous.status, challenge: anonymous.headers.get('www-authenticate'), body: await anonymous.text() },
          { status: 401, challenge: 'Bearer realm="api"', body: '' },
        )

        // An attacker's token of the right issuer but without the scope: refused, with the scope named.
        const forbidden = await fetch(things, { headers: { authorization: `Bearer ${await issue('read')}` } })
        assert.equal(forbidden.status, 403)
        assert.match(forbidden.headers.get('www-authenticate') ?? '', /^Bearer realm="api", error="insufficient_scope"/)
      } finally {
        api.kill('SIGTERM')
      }
      assert.equal(stderr, '')
    })
  }

  /** An access token for the test client with `scope`, from the real token endpoint. */
  async function issue(scope: string): Promise<string> {
    const issued = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
    })
    assert.equal(issued.status, 200)
    return ((await issued.json()) as { access_token: string }).access_token
  }

  /** The ```js blocks of packages/NAME/README.md marked `<!-- run in test: ... -->`, in order. */
  async function readmeExamples(name: 'client' | 'verify'): Promise<string[]> {
    const readme = await readFile(join(root, 'packages', name, 'README.md'), 'utf8')
    return [...readme.matchAll(/<!-- run in test:[^>]*-->\n```js\n([\s\S]*?)```/g)].map(([, code = '']) => code)
  }

  /** The environment of an example: the server's issuer, nothing of npm's or the test's own. */
  function exampleEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH, HOME: process.env.HOME, GATEHOUSE_ISSUER: server.url, ...extra }
  }

  async function node(cwd: string, file: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    return run(process.execPath, [file], { cwd, env: exampleEnv(env) }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
    )
  }
})

/** npm in `cwd`, without the npm_* settings a surrounding `npm test` puts in the environment. */
async function npm(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')))
  return run('npm', args, { cwd, env, maxBuffer: 16 * 1024 * 1024 })
}

async function folders(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isDirectory() || entry.isSymbolicLink()).map((entry) => entry.name).sort()
}

async function waitUntilListening(url: string, child: { exitCode: number | null }): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the example exited with ${child.exitCode}`)
    try {
      await fetch(url)
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}
