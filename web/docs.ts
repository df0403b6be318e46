/**
 * The interactive API reference at /docs: reads /openapi.json, lists every operation, lets a
 * person paste a bearer token and send a request, and shows the same request as curl,
 * JavaScript, Python and Go. No framework, no CDN: this file is all there is.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

interface Schema {
  type?: string | string[]
  properties?: Record<string, Schema>
  items?: Schema
  required?: string[]
  enum?: Json[]
  examples?: Json[]
  default?: Json
  description?: string
  format?: string
  $ref?: string
}

interface Parameter {
  name: string
  in: 'path' | 'query' | 'header'
  required?: boolean
  description?: string
  schema?: Schema
}

interface Operation {
  tags?: string[]
  summary?: string
  description?: string
  parameters?: Parameter[]
  requestBody?: { content: Record<string, { schema?: Schema }> }
  responses?: Record<string, { description?: string }>
  security?: Record<string, string[]>[]
}

interface Document {
  info: { title: string; version: string; description?: string }
  paths: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, Schema> }
  tags?: { name: string; description?: string }[]
}

interface Selected {
  method: string
  path: string
  operation: Operation
}

const TOKEN_KEY = 'gatehouse-docs-token'
const LANGUAGES = ['curl', 'JavaScript', 'Python', 'Go'] as const
type Language = (typeof LANGUAGES)[number]

let doc: Document
let selected: Selected | undefined
let language: Language = 'curl'

function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value)
  node.append(...children)
  return node
}

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id)
  if (!node) throw new Error(`#${id} is missing`)
  return node as T
}

function resolve(schema: Schema | undefined): Schema | undefined {
  if (!schema?.$ref) return schema
  const name = schema.$ref.split('/').pop() ?? ''
  return doc.components?.schemas?.[name]
}

/** A plausible example value for a schema: its example, default, first enum value, or a typed placeholder. */
function example(raw: Schema | undefined, depth = 0): Json {
  const schema = resolve(raw)
  if (!schema || depth > 4) return null
  if (schema.examples?.[0] !== undefined) return schema.examples[0]
  if (schema.default !== undefined) return schema.default
  if (schema.enum?.[0] !== undefined) return schema.enum[0]
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type
  switch (type) {
    case 'object': {
      const out: Record<string, Json> = {}
      for (const [name, property] of Object.entries(schema.properties ?? {})) out[name] = example(property, depth + 1)
      return out
    }
    case 'array':
      return [example(schema.items, depth + 1)]
    case 'integer':
    case 'number':
      return 3600
    case 'boolean':
      return false
    case 'string':
      return schema.format === 'date-time' ? new Date().toISOString() : 'string'
    default:
      return null
  }
}

function needsBearer(operation: Operation): boolean {
  return (operation.security ?? []).some((requirement) => 'bearerAuth' in requirement)
}

function renderSidebar(): void {
  const nav = byId('operations')
  nav.replaceChildren()
  const groups = new Map<string, Selected[]>()
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const tag = operation.tags?.[0] ?? 'Other'
      groups.set(tag, [...(groups.get(tag) ?? []), { method, path, operation }])
    }
  }
  const order = (doc.tags ?? []).map((tag) => tag.name)
  const tags = [...groups.keys()].sort((a, b) => (order.indexOf(a) + 1 || 999) - (order.indexOf(b) + 1 || 999))
  for (const tag of tags) {
    const list = element('ul')
    for (const entry of groups.get(tag) ?? []) {
      const link = element('a', { href: `#${entry.method}-${entry.path}`, class: 'operation-link' }, element('span', { class: `method method-${entry.method}` }, entry.method.toUpperCase()), ` ${entry.path}`)
      link.addEventListener('click', () => select(entry))
      list.append(element('li', {}, link))
    }
    nav.append(element('h3', {}, tag), list)
  }
}

function field(label: string, input: HTMLElement, hint?: string): HTMLElement {
  return element('label', { class: 'field' }, element('span', {}, label), input, ...(hint ? [element('small', {}, hint)] : []))
}

function select(entry: Selected): void {
  selected = entry
  const { method, path, operation } = entry
  const main = byId('operation')
  main.replaceChildren()
  main.append(element('h2', {}, element('span', { class: `method method-${method}` }, method.toUpperCase()), ` ${path}`))
  if (operation.summary) main.append(element('p', { class: 'summary' }, operation.summary))
  if (operation.description) main.append(element('p', {}, operation.description))
  if (needsBearer(operation)) main.append(element('p', { class: 'note' }, 'Needs an operator bearer token for the admin audience (paste it above).'))

  const form = element('form', { id: 'try-form' })
  for (const parameter of operation.parameters ?? []) {
    const input = element('input', { name: `${parameter.in}:${parameter.name}`, placeholder: parameter.schema?.type ? String(parameter.schema.type) : '' })
    if (parameter.in === 'path') input.required = true
    form.append(field(`${parameter.name} (${parameter.in}${parameter.required ? ', required' : ''})`, input, parameter.description))
  }
  const content = Object.keys(operation.requestBody?.content ?? {})
  if (content.length > 0) {
    const type = element('select', { name: 'content-type' }, ...content.map((value) => element('option', { value }, value)))
    const body = element('textarea', { name: 'body', rows: '10', spellcheck: 'false' })
    const fill = (): void => {
      const schema = operation.requestBody?.content[type.value]?.schema
      const sample = example(schema)
      body.value =
        type.value === 'application/x-www-form-urlencoded' && sample && typeof sample === 'object' && !Array.isArray(sample)
          ? new URLSearchParams(Object.entries(sample).map(([k, v]) => [k, String(v)])).toString()
          : JSON.stringify(sample, null, 2)
      renderSamples()
    }
    type.addEventListener('change', fill)
    form.append(field('Content type', type), field('Body', body))
    fill()
  }
  form.append(element('button', { type: 'submit', class: 'primary' }, 'Send request'))
  form.addEventListener('input', renderSamples)
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    void send()
  })
  main.append(form)

  const tabs = element('div', { class: 'tabs', role: 'tablist' })
  for (const name of LANGUAGES) {
    const tab = element('button', { type: 'button', role: 'tab', 'data-language': name }, name)
    tab.addEventListener('click', () => {
      language = name
      renderSamples()
    })
    tabs.append(tab)
  }
  main.append(element('h3', {}, 'Request sample'), tabs, element('pre', { id: 'sample', class: 'code' }), element('h3', {}, 'Response'), element('pre', { id: 'response', class: 'code' }, 'Send the request to see the answer.'))
  renderSamples()
}

interface Built {
  url: string
  method: string
  headers: Record<string, string>
  body: string | undefined
}

function build(): Built | undefined {
  if (!selected) return undefined
  const form = document.getElementById('try-form') as HTMLFormElement | null
  const data = form ? new FormData(form) : new FormData()
  let path = selected.path
  const query = new URLSearchParams()
  const headers: Record<string, string> = {}
  for (const [key, value] of data.entries()) {
    const text = String(value)
    const [where, name = ''] = key.split(':')
    if (where === 'path') path = path.replace(`{${name}}`, encodeURIComponent(text || `{${name}}`))
    else if (where === 'query' && text !== '') query.set(name, text)
    else if (where === 'header' && text !== '') headers[name] = text
  }
  const token = (document.getElementById('token') as HTMLInputElement | null)?.value.trim() ?? ''
  if (token !== '') headers.authorization = `Bearer ${token}`
  const contentType = data.get('content-type')
  const body = data.get('body')
  if (typeof contentType === 'string') headers['content-type'] = contentType
  const search = query.toString()
  return { url: `${window.location.origin}${path}${search ? `?${search}` : ''}`, method: selected.method.toUpperCase(), headers, body: typeof body === 'string' && body.trim() !== '' ? body : undefined }
}

const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`
const pyString = (text: string): string => JSON.stringify(text)

function sample(request: Built, lang: Language): string {
  const { url, method, headers, body } = request
  switch (lang) {
    case 'curl':
      return [`curl -X ${method} ${quote(url)}`, ...Object.entries(headers).map(([k, v]) => `  -H ${quote(`${k}: ${v}`)}`), ...(body !== undefined ? [`  --data ${quote(body)}`] : [])].join(' \\\n')
    case 'JavaScript':
      return `const response = await fetch(${JSON.stringify(url)}, {\n  method: ${JSON.stringify(method)},\n  headers: ${JSON.stringify(headers, null, 2).replace(/\n/g, '\n  ')},${body !== undefined ? `\n  body: ${JSON.stringify(body)},` : ''}\n})\nconsole.log(response.status, await response.text())`
    case 'Python':
      return `import requests\n\nresponse = requests.request(\n    ${pyString(method)},\n    ${pyString(url)},\n    headers=${JSON.stringify(headers)},${body !== undefined ? `\n    data=${pyString(body)},` : ''}\n)\nprint(response.status_code, response.text)`
    case 'Go':
      return [
        'package main',
        '',
        'import (',
        '\t"fmt"',
        '\t"io"',
        '\t"net/http"',
        '\t"strings"',
        ')',
        '',
        'func main() {',
        `\treq, err := http.NewRequest(${JSON.stringify(method)}, ${JSON.stringify(url)}, ${body !== undefined ? `strings.NewReader(${JSON.stringify(body)})` : 'strings.NewReader("")'})`,
        '\tif err != nil {',
        '\t\tpanic(err)',
        '\t}',
        ...Object.entries(headers).map(([k, v]) => `\treq.Header.Set(${JSON.stringify(k)}, ${JSON.stringify(v)})`),
        '\tres, err := http.DefaultClient.Do(req)',
        '\tif err != nil {',
        '\t\tpanic(err)',
        '\t}',
        '\tdefer res.Body.Close()',
        '\tbody, _ := io.ReadAll(res.Body)',
        '\tfmt.Println(res.StatusCode, string(body))',
        '}',
      ].join('\n')
  }
}

function renderSamples(): void {
  const request = build()
  const target = document.getElementById('sample')
  if (!request || !target) return
  target.textContent = sample(request, language)
  for (const tab of document.querySelectorAll<HTMLButtonElement>('.tabs button')) tab.setAttribute('aria-selected', String(tab.dataset.language === language))
}

async function send(): Promise<void> {
  const request = build()
  const target = byId('response')
  if (!request) return
  target.textContent = 'Sending…'
  try {
    const response = await fetch(request.url, { method: request.method, headers: request.headers, ...(request.body !== undefined ? { body: request.body } : {}) })
    const text = await response.text()
    let shown = text
    try {
      shown = JSON.stringify(JSON.parse(text), null, 2)
    } catch {
      // not JSON: show as is
    }
    const headers = [...response.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n')
    target.textContent = `HTTP ${response.status} ${response.statusText}\n${headers}\n\n${shown}`
  } catch (error) {
    target.textContent = `Request failed: ${error instanceof Error ? error.message : String(error)}`
  }
}

async function start(): Promise<void> {
  const token = byId<HTMLInputElement>('token')
  token.value = sessionStorage.getItem(TOKEN_KEY) ?? ''
  token.addEventListener('input', () => {
    sessionStorage.setItem(TOKEN_KEY, token.value.trim())
    renderSamples()
  })
  const response = await fetch('/openapi.json')
  doc = (await response.json()) as Document
  byId('title').textContent = `${doc.info.title} ${doc.info.version} — API reference`
  renderSidebar()
  const [method, ...rest] = decodeURIComponent(window.location.hash.slice(1)).split('-')
  const path = rest.join('-')
  const operation = method && doc.paths[path]?.[method]
  const first = Object.entries(doc.paths)[0]
  if (operation) select({ method: method as string, path, operation })
  else if (first) {
    const [firstPath, operations] = first
    const [firstMethod, firstOperation] = Object.entries(operations)[0] ?? []
    if (firstMethod && firstOperation) select({ method: firstMethod, path: firstPath, operation: firstOperation })
  }
}

void start()
