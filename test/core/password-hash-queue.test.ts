import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { PasswordHashQueue } from '../../src/core/abuse/password-hash-queue.js'
import { OAuthError } from '../../src/core/errors.js'

/** A check that finishes when the test says so, recording when it started. */
function gate(log: string[], name: string): { work: () => Promise<string>; finish: () => void } {
  let finish = (): void => {}
  const done = new Promise<void>((resolve) => (finish = resolve))
  return {
    work: async () => {
      log.push(name)
      await done
      return name
    },
    finish: () => finish(),
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('password checks take turns by source', () => {
  it('runs at most `concurrency` at once and serves waiting sources round-robin, not first come first served', async () => {
    const queue = new PasswordHashQueue({ concurrency: 1, perSource: 10, total: 100 })
    const log: string[] = []
    const flood = Array.from({ length: 5 }, (_, i) => gate(log, `flood-${i}`))
    const person = gate(log, 'person')
    const results = flood.map((check) => queue.run('10.0.0.66', check.work))
    await tick()
    const theirs = queue.run('10.0.0.7', person.work)
    await tick()
    assert.deepEqual(log, ['flood-0'])
    flood[0]!.finish()
    await tick()
    // The flood was in line first, but its check just ran: the person's goes next, before the flood's four.
    assert.deepEqual(log, ['flood-0', 'person'])
    person.finish()
    assert.equal(await theirs, 'person')
    for (const check of flood) check.finish()
    assert.deepEqual(await Promise.all(results), ['flood-0', 'flood-1', 'flood-2', 'flood-3', 'flood-4'])
    assert.deepEqual(queue.stats, { running: 0, waiting: 0 })
  })

  it('refuses a check at once (503 temporarily_unavailable, Retry-After 1) when its source has too many waiting', async () => {
    const queue = new PasswordHashQueue({ concurrency: 1, perSource: 2, total: 100 })
    const log: string[] = []
    const running = gate(log, 'running')
    const first = queue.run('a', running.work)
    const gates = [gate(log, 'w1'), gate(log, 'w2')]
    const waiting = gates.map((check) => queue.run('a', check.work))
    const refused = await queue.run('a', async () => 'never').then(
      () => assert.fail('expected a refusal'),
      (error: unknown) => error,
    )
    assert.ok(refused instanceof OAuthError)
    assert.deepEqual([refused.code, refused.retryAfter], ['temporarily_unavailable', 1])
    // Another source still gets in line.
    const other = queue.run('b', async () => 'b')
    running.finish()
    for (const check of gates) check.finish()
    assert.equal(await first, 'running')
    assert.equal(await other, 'b')
    assert.deepEqual(await Promise.all(waiting), ['w1', 'w2'])
  })

  it('refuses when the whole queue is full, whatever the source', async () => {
    const queue = new PasswordHashQueue({ concurrency: 1, perSource: 5, total: 2 })
    const log: string[] = []
    const running = gate(log, 'running')
    const accepted = [queue.run('a', running.work), queue.run('b', async () => 'b'), queue.run('c', async () => 'c')]
    await assert.rejects(queue.run('d', async () => 'd'), (error: unknown) => error instanceof OAuthError && error.code === 'temporarily_unavailable')
    running.finish()
    assert.deepEqual(await Promise.all(accepted), ['running', 'b', 'c'])
  })

  it('passes a failing check on and frees its slot', async () => {
    const queue = new PasswordHashQueue({ concurrency: 1, perSource: 5, total: 5 })
    await assert.rejects(queue.run('a', async () => Promise.reject(new Error('argon2 failed'))), /argon2 failed/)
    assert.equal(await queue.run('a', async () => 'next'), 'next')
    assert.deepEqual(queue.stats, { running: 0, waiting: 0 })
  })

  it('says a source is full exactly when its next check would be refused, and only for that source', async () => {
    const queue = new PasswordHashQueue({ concurrency: 1, perSource: 2, total: 10 })
    const log: string[] = []
    const running = gate(log, 'running')
    const accepted = [queue.run('a', running.work), queue.run('a', async () => 'w1')]
    assert.equal(queue.full('a'), false)
    accepted.push(queue.run('a', async () => 'w2'))
    assert.equal(queue.full('a'), true)
    assert.equal(queue.full('b'), false, 'a flood from one address never refuses another')
    await assert.rejects(queue.run('a', async () => 'w3'), (error: unknown) => error instanceof OAuthError && error.code === 'temporarily_unavailable')
    running.finish()
    assert.deepEqual(await Promise.all(accepted), ['running', 'w1', 'w2'])
    assert.equal(queue.full('a'), false)
  })
})
