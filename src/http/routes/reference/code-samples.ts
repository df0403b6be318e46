import { codeSamples, type SnippetRequest } from '../../../snippets/index.js'
import { PLACEHOLDERS, requestExample, type Operation, type Paths } from './request-examples.js'

export interface RequestOptions {
  /** Which media type of the request body to send; default the operation's first. */
  mediaType?: string
  /** Replaces placeholder strings (CLIENT_ID → a real id) anywhere in the example. */
  substitute?: Readonly<Record<string, string>>
}

function substituted(value: unknown, substitute: Readonly<Record<string, string>>): unknown {
  if (typeof value === 'string') return substitute[value] ?? value
  if (Array.isArray(value)) return value.map((item) => substituted(item, substitute))
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituted(item, substitute)]))
  return value
}

/** Only bearer schemes become a header: a token endpoint's example carries its client credentials in the body. */
const needsBearer = (operation: Operation): boolean => (operation.security ?? []).length > 0 && (operation.security ?? []).every((entry) => 'bearerAuth' in entry)

/**
 * The request an operation's example describes, as the snippet generator takes it: the
 * server URL, path parameters filled in, query and header parameters, the body in the chosen
 * media type.
 */
export function exampleRequest(server: string, path: string, method: string, operation: Operation, options: RequestOptions = {}): SnippetRequest {
  const substitute = options.substitute ?? {}
  const example = substituted(requestExample(method, path, operation), substitute) as ReturnType<typeof requestExample>
  const values = example.parameters ?? {}
  const inOf = (kind: string) => (operation.parameters ?? []).filter((parameter) => parameter.in === kind && values[parameter.name] !== undefined)
  const filled = path.replace(/\{([^}]+)\}/g, (_match, name: string) => encodeURIComponent(values[name] ?? name))
  const url = new URL(`${server.replace(/\/$/, '')}${filled}`)
  for (const parameter of inOf('query')) url.searchParams.set(parameter.name, values[parameter.name] ?? '')
  const headers: [string, string][] = inOf('header').map((parameter) => [parameter.name, values[parameter.name] ?? ''])
  if (needsBearer(operation)) headers.push(['Authorization', `Bearer ${substitute[PLACEHOLDERS.accessToken] ?? PLACEHOLDERS.accessToken}`])
  const content = operation.requestBody?.content ?? {}
  const mediaType = options.mediaType ?? Object.keys(content)[0]
  const request: SnippetRequest = { method: method.toUpperCase(), url: url.toString(), headers }
  if (mediaType === undefined || example.body === undefined) return request
  if (mediaType === 'application/x-www-form-urlencoded') {
    return { ...request, body: { form: Object.fromEntries(Object.entries(example.body).map(([key, value]) => [key, String(value)])) } }
  }
  return { ...request, body: { json: example.body } }
}

/** Puts `x-codeSamples` (ten languages) on every operation: Scalar's language switcher shows them. */
export function addCodeSamples(paths: Paths, server: string): void {
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (method === 'parameters') continue
      operation['x-codeSamples'] = codeSamples(exampleRequest(server, path, method, operation))
    }
  }
}
