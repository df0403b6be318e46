import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import pg from 'pg'
import { sql } from 'kysely'
import { LocalChangeFeed, parseChange, type ChangeNotice } from '../../src/store/change-feed.js'
import type { KyselyStore } from '../../src/store/kysely-store.js'
import { openStore } from '../../src/store/open-store.js'
import { CHANGE_CHANNEL, PostgresChangeFeed } from '../../src/store/postgres/postgres-change-feed.js'
import { createPostgresTestDatabase, type TestDatabase } from '../helpers/database.js'
import { POSTGRES_URL, skipWithoutPostgres } from '../helpers/postgres.js'
import { within } from '../helpers/processes.js'

test('the local feed tells this process’s listeners, until they unsubscribe', async () => {
  const feed = new LocalChangeFeed()
  const heard: ChangeNotice[] = []
  const unsubscribe = feed.subscribe((notice) => heard.push(notice))
  await feed.publish({ kind: 'client', id: 'c1' })
  unsubscribe()
  await feed.publish({ kind: 'client', id: 'c2' })
  assert.deepEqual(heard, [{ kind: 'client', id: 'c1' }])
})

test('a notice payload is read only in its known shapes', () => {
  assert.deepEqual(
    ['{"kind":"client","id":"a"}', '{"kind":"api-key","id":"K"}', '{"kind":"signing-keys"}', '{"kind":"client"}', '{"kind":"client","id":""}', '{"kind":"drop"}', 'not json', 'null'].map(parseChange),
    [{ kind: 'client', id: 'a' }, { kind: 'api-key', id: 'K' }, { kind: 'signing-keys' }, undefined, undefined, undefined, undefined, undefined],
  )
})

describe('the PostgreSQL change feed', { skip: await skipWithoutPostgres() }, () => {
  let database: TestDatabase
  let store: KyselyStore

  before(async () => {
    database = await createPostgresTestDatabase(POSTGRES_URL)
    store = openStore(database.url)
    await store.migrate()
  })
  after(async () => {
    await store?.close()
    await database?.drop()
  })

  const listening = (heard: ChangeNotice[]) => (notice: ChangeNotice) => void heard.push(notice)

  test('carries a change to another instance, and to the publisher’s own listeners once', async () => {
    const mine = new PostgresChangeFeed(store.db, database.url, { listen: true })
    const theirs = new PostgresChangeFeed(store.db, database.url, { listen: true })
    try {
      await Promise.all([mine.ready(), theirs.ready()])
      const [heardHere, heardThere]: ChangeNotice[][] = [[], []]
      mine.subscribe(listening(heardHere))
      theirs.subscribe(listening(heardThere))
      await mine.publish({ kind: 'client', id: 'c1' })
      await mine.publish({ kind: 'signing-keys' })
      await within(5000, async () => heardThere.length === 2)
      // Give our own NOTIFY time to come back, to see that it is not heard twice.
      await new Promise((resolve) => setTimeout(resolve, 200))
      assert.deepEqual({ heardHere, heardThere }, {
        heardHere: [{ kind: 'client', id: 'c1' }, { kind: 'signing-keys' }],
        heardThere: [{ kind: 'client', id: 'c1' }, { kind: 'signing-keys' }],
      })
    } finally {
      await Promise.all([mine.close(), theirs.close()])
    }
  })

  test('ignores notices on its channel that are not changes', async () => {
    const feed = new PostgresChangeFeed(store.db, database.url, { listen: true })
    const other = new pg.Client({ connectionString: database.url })
    try {
      await feed.ready()
      const heard: ChangeNotice[] = []
      feed.subscribe(listening(heard))
      await other.connect()
      await other.query(`SELECT pg_notify($1, 'not json'), pg_notify($1, '{"kind":"drop-everything"}'), pg_notify($1, '{"kind":"client","id":"ok"}')`, [CHANGE_CHANNEL])
      await within(5000, async () => heard.length > 0)
      assert.deepEqual(heard, [{ kind: 'client', id: 'ok' }])
    } finally {
      await other.end()
      await feed.close()
    }
  })

  test('reconnects when its connection is killed, says resync, and hears changes again', async () => {
    const errors: unknown[] = []
    const feed = new PostgresChangeFeed(store.db, database.url, { listen: true, retryMs: 50, onError: (error) => errors.push(error) })
    const publisher = new PostgresChangeFeed(store.db, database.url, { listen: false })
    try {
      await feed.ready()
      const heard: ChangeNotice[] = []
      feed.subscribe(listening(heard))
      // What an administrator's pg_terminate_backend or a database restart does to it.
      const killed = await sql<{ killed: boolean }>`
        SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`.execute(store.db)
      assert.deepEqual(killed.rows, [{ killed: true }])
      await within(5000, async () => heard.some((notice) => notice.kind === 'resync') && feed.listening)
      await publisher.publish({ kind: 'client', id: 'after-reconnect' })
      await within(5000, async () => heard.some((notice) => notice.kind === 'client'))
      assert.deepEqual(heard, [{ kind: 'resync' }, { kind: 'client', id: 'after-reconnect' }])
      assert.ok(errors.length >= 1)
    } finally {
      await Promise.all([feed.close(), publisher.close()])
    }
  })
})
