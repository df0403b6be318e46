import { createServer } from 'node:net'
import { Writable } from 'node:stream'
import { loadConfig, type Config } from '../../src/config.js'
import type { ClientSettings } from '../../src/core/admin/client-admin.js'
import type { Clock } from '../../src/core/clock.js'
import { createLogger } from '../../src/logger.js'
import { startServer, type RunningServer } from '../../src/server.js'
import { createTestDatabase, type TestDatabase } from './database.js'

export const TEST_SECRET = 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz'

/** Every log line the server wrote, as text and parsed. */
export class LogCapture extends Writable {
  readonly lines: string[] = []
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
    callback()
  }
  get text(): string {
    return this.lines.join('\n')
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface TestServer {
  url: string
  server: RunningServer
  database: TestDatabase
  config: Config
  logs: LogCapture
  createClient(settings?: Partial<ClientSettings>): Promise<{ id: string; secret: string }>
  createUser(username: string, password: string, name?: string): Promise<{ id: string }>
  close(): Promise<void>
}

export interface TestServerOptions {
  env?: Record<string, string>
  clock?: Clock
  /** Reuse a database (e.g. a second instance on the same PostgreSQL). */
  database?: TestDatabase
  /** Listen on this port (e.g. one an issuer setting already names); default a free one. */
  port?: number
}

/** The real server on a real port, on a fresh database, with its logs captured. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase())
  const port = options.port ?? (await freePort())
  const config = loadConfig(
    { database: database.url, host: '127.0.0.1', port },
    { GATEHOUSE_SECRET: TEST_SECRET, GATEHOUSE_DATA_DIR: database.dataDir, ...options.env },
  )
  const logs = new LogCapture()
  const logger = createLogger('debug', logs)
  const server = await startServer(config, logger, options.clock ? { clock: options.clock } : {})
  return {
    url: server.url,
    server,
    database,
    config,
    logs,
    async createClient(settings = {}) {
      const { client, clientSecret } = await server.gatehouse.clients.create({
        name: 'test client',
        grantTypes: ['client_credentials', 'password', 'refresh_token'],
        scopes: ['api', 'read', 'write'],
        ...settings,
      })
      // A public client (tokenEndpointAuthMethod none) has no secret: '' here, never sent.
      return { id: client.id, secret: clientSecret ?? '' }
    },
    async createUser(username, password, name) {
      const user = await server.gatehouse.users.create({ username, password, name: name ?? null })
      return { id: user.id }
    },
    async close() {
      await server.close()
      if (!options.database) await database.drop()
    },
  }
}
