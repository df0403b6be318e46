/** HTML rendering for the console and the reference: escaped templates, one layout, strict headers. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Escapes text for HTML content and attribute values. */
export function escape(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char)
}

/** A fragment of trusted HTML (already escaped). */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text
  }
}

/** Tagged template: interpolated values are escaped unless they are Html (or arrays of it). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? ''
  values.forEach((value, index) => {
    const render = (item: unknown): string => (item instanceof Html ? item.text : escape(item))
    out += Array.isArray(value) ? value.map(render).join('') : value === undefined || value === null || value === false ? '' : render(value)
    out += strings[index + 1] ?? ''
  })
  return new Html(out)
}

/**
 * A table that scrolls inside its box on a wide screen and, below 600 px, stacks: each row a
 * block, each cell labelled with its column's heading (`data-label`, shown by gatehouse.css).
 * The rows are trusted Html whose cells are `<td…>` in column order.
 */
export function stackedTable(headings: readonly string[], rows: readonly Html[], attributes: Html = html``): Html {
  const labelled = rows.map((row) => {
    let column = 0
    return new Html(row.text.replace(/<td(?=[\s>])/g, () => `<td data-label="${escape(headings[column++] ?? '')}"`))
  })
  return html`<div class="scroll"><table class="stack"${attributes}><thead><tr>${headings.map((heading) => html`<th>${heading}</th>`)}</tr></thead><tbody>${labelled}</tbody></table></div>`
}

/**
 * Pages load only their own script and stylesheet: no inline script, no third party, no
 * framing (clickjacking), forms post only to this origin.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
}

/**
 * PAGE_HEADERS for a page whose form's answer redirects elsewhere: CSP `form-action` also
 * governs where a form submission is redirected, so the sign-in and consent pages name the
 * application's redirect URI (its origin, or its private-use scheme for a native app).
 */
export function pageHeadersAllowingFormTargets(targets: readonly string[]): Record<string, string> {
  const sources = targets.flatMap((target) => {
    try {
      const url = new URL(target)
      return [url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol]
    } catch {
      return []
    }
  })
  // A source is a URL origin or a scheme: no quote, semicolon or space can reach the header.
  const safe = sources.filter((source) => /^[a-z][a-z0-9+.-]*:(\/\/[a-z0-9.\-[\]:]+)?$/i.test(source))
  if (safe.length === 0) return { ...PAGE_HEADERS }
  const csp = (PAGE_HEADERS['content-security-policy'] ?? '').replace("form-action 'self'", `form-action 'self' ${[...new Set(safe)].join(' ')}`)
  return { ...PAGE_HEADERS, 'content-security-policy': csp }
}

export function page(options: { title: string; body: Html; header?: Html; script?: string; wide?: boolean; area?: string; home?: string; mainClass?: string }): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Gatehouse</title>
<link rel="stylesheet" href="/assets/gatehouse.css">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<meta name="color-scheme" content="light dark">
${options.script ? html`<script type="module" src="/assets/${options.script}"></script>` : ''}
</head>
<body>
<header class="top"><a class="brand" href="${options.home ?? (options.area === 'API reference' ? '/docs' : '/console')}">Gatehouse<small>${options.area ?? 'developer console'}</small></a><span>${options.header ?? ''}</span></header>
${options.wide ? options.body : html`<main${options.mainClass ? html` class="${options.mainClass}"` : ''}>${options.body}</main>`}
</body>
</html>
`.text
}
