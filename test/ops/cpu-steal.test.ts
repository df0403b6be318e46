import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { readCpuTimes, stealShare } from '../../bench/cpu-steal.js'

describe("the benchmarks' CPU steal figure (bench/cpu-steal.ts)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-steal-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const stat = (line: string): string => {
    const path = join(dir, `stat-${Math.random().toString(36).slice(2)}`)
    writeFileSync(path, `${line}\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1\n`)
    return path
  }

  it('sums the first eight fields (guest time is already in user) and reads steal as the eighth', () => {
    assert.deepEqual(readCpuTimes(stat('cpu  100 0 50 800 10 0 5 35 20 0')), { steal: 35, total: 1000 })
  })

  it('gives the share of the interval that was stolen', () => {
    const before = readCpuTimes(stat('cpu  100 0 50 800 10 0 5 35 0 0'))
    const after = readCpuTimes(stat('cpu  300 0 150 1200 10 0 5 335 0 0'))
    assert.equal(stealShare(before, after), 0.3)
  })

  it('says nothing rather than something wrong: no file, a short line, no time passed', () => {
    assert.equal(readCpuTimes(join(dir, 'missing')), undefined)
    assert.equal(readCpuTimes(stat('cpu  1 2 3')), undefined)
    const same = readCpuTimes(stat('cpu  100 0 50 800 10 0 5 35 0 0'))
    assert.equal(stealShare(same, same), undefined)
    assert.equal(stealShare(undefined, same), undefined)
  })
})
