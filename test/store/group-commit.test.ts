import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GroupCommit } from '../../src/store/group-commit.js'

describe('group commit', () => {
  it('writes the calls of one turn of the event loop together and answers each its own result', async () => {
    const batches: number[][] = []
    const group = new GroupCommit<number, string>(async (items) => {
      batches.push(items)
      return items.map((item) => `stored ${item}`)
    }, 100)
    const results = await Promise.all([1, 2, 3].map((n) => group.add(n)))
    assert.deepEqual(results, ['stored 1', 'stored 2', 'stored 3'])
    assert.deepEqual(batches, [[1, 2, 3]])
  })

  it('starts a new batch at the size bound', async () => {
    const batches: number[][] = []
    const group = new GroupCommit<number, number>(async (items) => (batches.push(items), items), 2)
    assert.deepEqual(await Promise.all([1, 2, 3, 4, 5].map((n) => group.add(n))), [1, 2, 3, 4, 5])
    assert.deepEqual(batches, [[1, 2], [3, 4], [5]])
  })

  it('fails exactly the calls of a failed batch, with its error', async () => {
    const failure = new Error('database unreachable')
    let call = 0
    const group = new GroupCommit<number, number>(async (items) => {
      call++
      if (call === 1) throw failure
      return items
    }, 100)
    const first = [1, 2].map((n) => group.add(n))
    const firstSettled = await Promise.allSettled(first)
    const second = await Promise.all([3, 4].map((n) => group.add(n)))
    assert.deepEqual(firstSettled, [
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ])
    assert.deepEqual(second, [3, 4])
  })

  it('does not answer before the write has finished', async () => {
    let finish: () => void = () => {}
    const written = new Promise<void>((resolve) => (finish = resolve))
    const group = new GroupCommit<number, number>(async (items) => (await written, items), 100)
    let answered = false
    const pending = group.add(1).then(() => (answered = true))
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(answered, false)
    finish()
    await pending
    assert.equal(answered, true)
  })
})
