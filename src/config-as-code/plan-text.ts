import type { Change, FieldChange, Plan } from '../core/config-as-code/plan.js'

/** How a change names its record: `client web-app`, `api https://…`, `operator user ana@…`. */
export function changeSubject(change: Change): string {
  switch (change.kind) {
    case 'client':
      return `client ${change.id}`
    case 'api':
      return `api ${change.identifier}`
    case 'operator':
      return `operator ${change.subject} ${change.label}`
    case 'dialects':
      return 'dialects (server config file; effective when the server restarts)'
  }
}

const value = (v: unknown): string => JSON.stringify(v)

function fieldText(field: FieldChange): string {
  if (!('from' in field)) return `    ${field.field}: ${value(field.to)}`
  if (!('to' in field)) return `    ${field.field}: ${value(field.from)} (removed)`
  return `    ${field.field}: ${value(field.from)} → ${value(field.to)}`
}

const MARK = { create: '+', update: '~', 'set-secret': '~', delete: '-' } as const

/** The diff, one record a paragraph: `+` create, `~` update, `-` delete, then field: old → new. */
export function planText(plan: Plan): string {
  const lines: string[] = []
  for (const change of plan.changes) {
    lines.push(`${MARK[change.action]} ${changeSubject(change)}${change.action === 'set-secret' ? ' (secret)' : ''}`)
    lines.push(...change.fields.map(fieldText))
  }
  if (plan.kept.length > 0) lines.push(`not in the file, kept (--prune removes them): ${plan.kept.join(', ')}`)
  return lines.join('\n')
}

/** The plan as --json prints it. */
export function planJson(plan: Plan): Record<string, unknown> {
  return {
    changes: plan.changes.map((change) => ({ action: change.action, kind: change.kind, subject: changeSubject(change), fields: change.fields })),
    kept: plan.kept,
  }
}

export function countText(changes: readonly Change[]): string {
  const counts = { create: 0, update: 0, delete: 0 }
  for (const change of changes) counts[change.action === 'set-secret' ? 'update' : change.action]++
  return `${changes.length} change(s): ${counts.create} create, ${counts.update} update, ${counts.delete} delete`
}
