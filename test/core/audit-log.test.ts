import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { AuditLog } from '../../src/core/audit/audit-log.js'
import { ManualClock } from '../../src/core/clock.js'
import { systemRandom } from '../../src/core/random.js'
import type { AuditEvent, AuditEventFilter, AuditStore } from '../../src/core/audit/audit-store.js'

class RecordingStore implements AuditStore {
  readonly batches: AuditEvent[][] = []
  async appendAuditEvent(event: AuditEvent): Promise<void> {
    this.batches.push([event])
  }
  async appendAuditEvents(events: AuditEvent[]): Promise<void> {
    this.batches.push(events)
  }
  async listAuditEvents(_filter: AuditEventFilter): Promise<AuditEvent[]> {
    return this.batches.flat()
  }
}

function setup(): { store: RecordingStore; clock: ManualClock; audit: AuditLog; errors: unknown[] } {
  const store = new RecordingStore()
  const clock = new ManualClock(Date.UTC(2026, 10, 23))
  const errors: unknown[] = []
  return { store, clock, errors, audit: new AuditLog({ store, clock, random: systemRandom, onError: (error) => errors.push(error) }) }
}

describe('AuditLog', () => {
  it('writes a management change at once, with id, time and no secret-looking details', async () => {
    const { store, clock, audit } = setup()
    const event = await audit.record({ actor: 'user:u1', action: 'client.created', target: 'client:c1', ip: '10.0.0.1', details: { name: 'x', client_secret: 's3cr3t', password: 'p', api_key: 'k', accessToken: 't' } })
    assert.deepEqual(store.batches, [[event]])
    assert.deepEqual({ ...event, id: typeof event.id }, { id: 'string', at: clock.now(), actor: 'user:u1', action: 'client.created', target: 'client:c1', ip: '10.0.0.1', details: { name: 'x' } })
  })

  it('queues failed authentications and writes them together in one batch', async () => {
    const { store, audit } = setup()
    for (const id of ['a', 'b', 'c']) audit.note({ actor: 'anonymous', action: 'client.authentication_failed', target: `client:${id}` })
    assert.deepEqual(store.batches, [])
    await audit.flush()
    assert.deepEqual(store.batches.map((batch) => batch.map((event) => event.target)), [['client:a', 'client:b', 'client:c']])
  })

  it('gives events ids that sort in the order they happened, even within one millisecond', async () => {
    const { store, audit } = setup()
    for (let i = 0; i < 50; i++) audit.note({ actor: 'anonymous', action: 'x', target: String(i) })
    await audit.flush()
    const ids = store.batches.flat().map((event) => event.id)
    assert.deepEqual([...ids].sort(), ids)
  })

  it('counts instead of storing past 5000 waiting events, and records how many it dropped', async () => {
    const { store, audit } = setup()
    for (let i = 0; i < 5003; i++) audit.note({ actor: 'anonymous', action: 'client.authentication_failed', target: 'client:x' })
    await audit.flush()
    const [batch] = store.batches
    assert.equal(batch?.length, 5001)
    assert.deepEqual(batch?.at(-1)?.details, { count: 3, reason: 'too many events waiting to be written' })
    assert.equal(batch?.at(-1)?.action, 'audit.events_dropped')
  })

  it('reports a failed background write to onError and never throws to the caller', async () => {
    const { audit, errors, store } = setup()
    store.appendAuditEvents = async () => {
      throw new Error('disk full')
    }
    audit.note({ actor: 'anonymous', action: 'client.authentication_failed' })
    await audit.flush()
    assert.deepEqual(errors.map((error) => (error as Error).message), ['disk full'])
  })
})
