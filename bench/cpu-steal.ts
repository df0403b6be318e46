/**
 * The share of CPU time the hypervisor gave to other guests ("steal" in /proc/stat) while a
 * benchmark ran. On a shared virtual machine it explains a run whose figures are all low: rows
 * of one paired round still compare with each other, absolute rates from different days do not.
 */
import { readFileSync } from 'node:fs'

interface CpuTimes {
  steal: number
  total: number
}

/** The machine's CPU times (all CPUs, in clock ticks) from /proc/stat's first line; Linux only. */
export function readCpuTimes(stat = '/proc/stat'): CpuTimes | undefined {
  let line: string
  try {
    line = readFileSync(stat, 'utf8').split('\n', 1)[0] ?? ''
  } catch {
    return undefined
  }
  // cpu user nice system idle iowait irq softirq steal guest guest_nice: guest time is already
  // counted in user and nice (proc(5)), so the total is the first eight.
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number)
  if (fields.length < 8 || fields.some((value) => !Number.isFinite(value))) return undefined
  return { steal: fields[7] as number, total: fields.reduce((sum, value) => sum + value, 0) }
}

/** Share of CPU time stolen between two readings, or undefined when it can't be told. */
export function stealShare(before: CpuTimes | undefined, after: CpuTimes | undefined): number | undefined {
  if (!before || !after || after.total <= before.total) return undefined
  return (after.steal - before.steal) / (after.total - before.total)
}

const atStart = readCpuTimes()

/** A footer line: the steal since this module loaded, i.e. since the benchmark started. */
export function stealNote(): string {
  const share = stealShare(atStart, readCpuTimes())
  if (share === undefined) return 'CPU steal: not measured (no /proc/stat)'
  const warning = share > 0.05 ? '; other guests took CPU from this run, so its rates are low and noisy: compare the paired ratios, not the rates' : ''
  return `CPU steal since the bench started (CPU time the hypervisor gave other guests, /proc/stat): ${(share * 100).toFixed(1)} %${warning}`
}
