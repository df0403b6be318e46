/**
 * CLI output: with --json, exactly one JSON object on stdout and nothing else there;
 * otherwise a readable text form. Errors go to stderr either way.
 */
export function printResult(json: boolean, value: Record<string, unknown>, text: string): void {
  process.stdout.write(json ? JSON.stringify(value) + '\n' : text + '\n')
}

/** Whether the command line asks for JSON (`--json`): then errors are JSON too. */
export const jsonRequested = (argv: readonly string[] = process.argv): boolean => argv.includes('--json')

/**
 * Ends the command with an error on stderr and an exit code: 2 for a usage error (a bad flag or
 * a setting the command refuses), 1 for anything else (docs: README "Command line"). With
 * `--json` the error is one JSON object, `{"error":{"message":…,"exit_code":…}}`, so a script
 * reads it as it reads results.
 */
export function fail(message: string, code = 1): never {
  process.stderr.write(jsonRequested() ? `${JSON.stringify({ error: { message, exit_code: code } })}\n` : `gatehouse: ${message}\n`)
  process.exit(code)
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  // A trailing newline from `echo` or a here-string is not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)'
  const cells = rows.map((row) => columns.map((column) => formatCell(row[column])))
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((cell) => (cell[i] as string).length)))
  const line = (values: string[]): string => values.map((value, i) => value.padEnd(widths[i] as number)).join('  ').trimEnd()
  return [line(columns), ...cells.map(line)].join('\n')
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '-'
  if (Array.isArray(value)) return value.join(' ') || '-'
  return String(value)
}
