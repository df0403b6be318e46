/** A worklist record, shaped after what seed 001's GoSpeech worklist returns: dictations to transcribe. */
export interface WorklistRecord {
  id: string
  title: string
  status: 'new' | 'in_progress' | 'transcribed'
  durationSeconds: number
  createdAt: string
}

const STATUSES: WorklistRecord['status'][] = ['new', 'in_progress', 'transcribed']

/** Deterministic sample records, so the README's answers can be shown as they are. */
export function sampleRecords(count = 57): WorklistRecord[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `rec-${String(index + 1).padStart(4, '0')}`,
    title: `Dictation ${index + 1}`,
    status: STATUSES[index % STATUSES.length] ?? 'new',
    durationSeconds: 30 + ((index * 37) % 600),
    createdAt: new Date(Date.UTC(2026, 0, 1) + index * 3_600_000).toISOString(),
  }))
}
