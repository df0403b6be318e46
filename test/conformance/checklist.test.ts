import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

/**
 * Keeps docs/conformance.md honest: every `test/…ts` › title it cites must be a real test title
 * in a real file, every row must have a known verdict with what that verdict needs, and the
 * counts (per RFC and in total) must be the ones the rows add up to.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CHECKLIST = 'docs/conformance.md'

export const VERDICTS = ['conforms', 'departs (seed)', 'not applicable', 'open'] as const
type Verdict = (typeof VERDICTS)[number]
type Counts = Record<Verdict, number>

const REFERENCE = /`(test\/[^`]+?\.ts)` › (.+?)(?=<br>|\s*\||$)/g
const TITLE = /\b(?:it|test|describe)(?:\.(?:only|skip|todo))?\(\s*(['"`])((?:\\[\s\S]|(?!\1)[^\\])*)\1/g
const SUMMARY = /\*\*(\d+) requirements checked: (\d+) conform \(with a test\), (\d+) documented seed-driven departures, (\d+) not applicable, (\d+) open\.\*\*/
const SECTION_COUNT = /^(RFC [^:]+): (\d+) requirements: (\d+) conform, (\d+) departs \(seed\), (\d+) not applicable, (\d+) open\.$/

/** The literal titles of it(/test(/describe( in a test file (template literals with ${} left out). */
export function titlesOf(source: string): Set<string> {
  const titles = new Set<string>()
  for (const match of source.matchAll(TITLE)) {
    const [, quote, raw = ''] = match
    if (quote === '`' && raw.includes('${')) continue
    titles.add(raw.replace(/\\([\s\S])/g, '$1'))
  }
  return titles
}

const emptyCounts = (): Counts => ({ conforms: 0, 'departs (seed)': 0, 'not applicable': 0, open: 0 })

/** Every problem with the checklist text; empty when it is honest. */
export function checkChecklist(text: string, readTest: (path: string) => string | undefined): string[] {
  const problems: string[] = []
  const total = emptyCounts()
  const sections: { name: string; line: number; claimed: number[] | null; counts: Counts }[] = []
  const titleCache = new Map<string, Set<string> | undefined>()
  const titles = (path: string): Set<string> | undefined => {
    if (!titleCache.has(path)) {
      const source = readTest(path)
      titleCache.set(path, source === undefined ? undefined : titlesOf(source))
    }
    return titleCache.get(path)
  }

  const lines = text.split('\n')
  lines.forEach((line, index) => {
    const where = `${CHECKLIST}:${index + 1}`
    for (const match of line.matchAll(REFERENCE)) {
      const [, path = '', title = ''] = match
      const known = titles(path)
      if (known === undefined) problems.push(`${where}: ${path} does not exist`)
      else if (!known.has(title.trim())) problems.push(`${where}: ${path} has no test titled '${title.trim()}'`)
    }
    if (line.startsWith('## ')) sections.push({ name: line.slice(3), line: index + 1, claimed: null, counts: emptyCounts() })
    const section = sections.at(-1)
    const sectionCount = SECTION_COUNT.exec(line)
    if (sectionCount && section) section.claimed = sectionCount.slice(2).map(Number)
    if (!line.startsWith('|') || /^\|\s*(§|-)/.test(line)) return
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim())
    if (cells.length !== 5) {
      problems.push(`${where}: a row needs 5 cells, has ${cells.length}`)
      return
    }
    const [, , level = '', verdict = '', proof = ''] = cells
    if (!(VERDICTS as readonly string[]).includes(verdict)) {
      problems.push(`${where}: unknown verdict '${verdict}'`)
      return
    }
    const known = verdict as Verdict
    const references = [...proof.matchAll(REFERENCE)].length
    if (known === 'conforms' && references === 0) problems.push(`${where}: conforms without a test`)
    if (known === 'departs (seed)' && !/\bseeds? 00\d/.test(proof)) problems.push(`${where}: a departure names no seed`)
    if (known === 'open' && /^(MUST|MUST NOT|REQUIRED)$/.test(level) && !/\bissue \d+/.test(proof)) problems.push(`${where}: an open ${level} names no issue`)
    if (known === 'open' && !/\bissue \d+|no issue yet/.test(proof)) problems.push(`${where}: an open row says nothing about an issue`)
    if (known === 'not applicable' && !/not applicable \(/.test(proof)) problems.push(`${where}: not applicable without a reason`)
    total[known] += 1
    if (section) section.counts[known] += 1
    else problems.push(`${where}: a row outside any section`)
  })

  for (const section of sections) {
    const rows = VERDICTS.reduce((sum, verdict) => sum + section.counts[verdict], 0)
    if (rows === 0) continue
    const actual = [rows, ...VERDICTS.map((verdict) => section.counts[verdict])]
    if (section.claimed === null) problems.push(`${CHECKLIST}:${section.line}: section '${section.name}' has no count line`)
    else if (section.claimed.join() !== actual.join()) {
      problems.push(`${CHECKLIST}:${section.line}: section '${section.name}' claims ${section.claimed.join('/')} (rows/conform/departs/n.a./open), the rows say ${actual.join('/')}`)
    }
  }
  const summary = SUMMARY.exec(text)
  const actual = [VERDICTS.reduce((sum, verdict) => sum + total[verdict], 0), ...VERDICTS.map((verdict) => total[verdict])]
  if (!summary) problems.push(`${CHECKLIST}: no summary line ("N requirements checked: …")`)
  else if (summary.slice(1).map(Number).join() !== actual.join()) {
    problems.push(`${CHECKLIST}: the summary says ${summary.slice(1).join('/')} (total/conform/departs/n.a./open), the rows say ${actual.join('/')}`)
  }
  return problems
}

const readTest = (path: string): string | undefined => {
  const full = join(ROOT, path)
  return existsSync(full) ? readFileSync(full, 'utf8') : undefined
}

describe('docs/conformance.md', () => {
  it('cites only real test titles, gives every verdict what it needs, and counts its rows right', () => {
    const problems = checkChecklist(readFileSync(join(ROOT, CHECKLIST), 'utf8'), readTest)
    assert.deepEqual(problems, [], `\n${problems.join('\n')}`)
  })

  it('has the README say what the checklist counts', () => {
    const summary = SUMMARY.exec(readFileSync(join(ROOT, CHECKLIST), 'utf8'))
    assert.ok(summary)
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const [, totalCount, conform, departs, notApplicable, open] = summary
    const expected = `${totalCount} requirements checked: ${conform} conform (with a test), ${departs} documented seed-driven departures, ${notApplicable} not applicable, ${open} open`
    assert.ok(readme.includes(expected), `README.md should say: ${expected}`)
    assert.ok(readme.includes('(docs/conformance.md)'), 'README.md should link docs/conformance.md')
  })

  describe('the checker', () => {
    const file = "it('a real test', () => {})\nit(\"another's test\", () => {})\nit(`answers ${name}`, () => {})\ndescribe('a \\'quoted\\' suite', () => {})\n"
    const files: Record<string, string> = { 'test/a.test.ts': file }
    const read = (path: string): string | undefined => files[path]
    const doc = (rows: string[], summary = '**2 requirements checked: 1 conform (with a test), 0 documented seed-driven departures, 0 not applicable, 1 open.**', count = 'RFC 1: 2 requirements: 1 conform, 0 departs (seed), 0 not applicable, 1 open.') =>
      [summary, '', '## RFC 1', '', count, '', '| § | requirement | level | verdict | proof / note |', '|---|---|---|---|---|', ...rows].join('\n')
    const good = ['| 1 | a | MUST | conforms | `test/a.test.ts` › a real test<br>`test/a.test.ts` › another\'s test |', '| 2 | b | MUST | open | issue 12 (in progress) |']

    it('reads literal titles with escaped quotes and skips template titles', () => {
      assert.deepEqual([...titlesOf(file)], ['a real test', "another's test", "a 'quoted' suite"])
    })

    it('passes an honest checklist', () => {
      assert.deepEqual(checkChecklist(doc(good), read), [])
    })

    it('fails on a missing file, a title not in the file, and a template title', () => {
      const problems = checkChecklist(
        doc(['| 1 | a | MUST | conforms | `test/gone.test.ts` › a real test<br>`test/a.test.ts` › a real tes<br>`test/a.test.ts` › answers ${name} |', good[1] ?? '']),
        read,
      )
      assert.deepEqual(problems, [
        `${CHECKLIST}:9: test/gone.test.ts does not exist`,
        `${CHECKLIST}:9: test/a.test.ts has no test titled 'a real tes'`,
        `${CHECKLIST}:9: test/a.test.ts has no test titled 'answers \${name}'`,
      ])
    })

    it('fails on a conforms row without a test, an open MUST without an issue, a departure without a seed', () => {
      const problems = checkChecklist(
        doc(['| 1 | a | MUST | conforms | — |', '| 2 | b | MUST | open | no issue yet |', '| 3 | c | MUST | departs (seed) | because |'], '**3 requirements checked: 1 conform (with a test), 1 documented seed-driven departures, 0 not applicable, 1 open.**', 'RFC 1: 3 requirements: 1 conform, 1 departs (seed), 0 not applicable, 1 open.'),
        read,
      )
      assert.deepEqual(problems, [`${CHECKLIST}:9: conforms without a test`, `${CHECKLIST}:10: an open MUST names no issue`, `${CHECKLIST}:11: a departure names no seed`])
    })

    it('fails when the summary or a section count disagrees with the rows', () => {
      const problems = checkChecklist(doc(good, '**2 requirements checked: 2 conform (with a test), 0 documented seed-driven departures, 0 not applicable, 0 open.**', 'RFC 1: 2 requirements: 2 conform, 0 departs (seed), 0 not applicable, 0 open.'), read)
      assert.deepEqual(problems, [
        `${CHECKLIST}:3: section 'RFC 1' claims 2/2/0/0/0 (rows/conform/departs/n.a./open), the rows say 2/1/0/0/1`,
        `${CHECKLIST}: the summary says 2/2/0/0/0 (total/conform/departs/n.a./open), the rows say 2/1/0/0/1`,
      ])
    })
  })
})
