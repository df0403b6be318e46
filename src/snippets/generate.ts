import { HTTPSnippet, type HarRequest } from 'httpsnippet'
import { LANGUAGES, language, type SnippetLanguage, type SnippetLanguageId } from './languages.js'
import type { SnippetRequest } from './request.js'

/** An OpenAPI `x-codeSamples` entry (the Redocly extension Scalar reads). */
export interface CodeSample {
  lang: string
  label: string
  source: string
}

function toHar(request: SnippetRequest): HarRequest {
  const url = new URL(request.url)
  const headers = (request.headers ?? []).map(([name, value]) => ({ name, value }))
  const har: HarRequest = {
    method: request.method.toUpperCase(),
    url: `${url.origin}${url.pathname}`,
    httpVersion: 'HTTP/1.1',
    headers,
    queryString: [...url.searchParams].map(([name, value]) => ({ name, value })),
    cookies: [],
    headersSize: -1,
    bodySize: -1,
    postData: { mimeType: 'application/octet-stream' },
  }
  const body = request.body
  if (body && 'form' in body) {
    const mimeType = 'application/x-www-form-urlencoded'
    har.headers.push({ name: 'Content-Type', value: mimeType })
    har.postData = { mimeType, params: Object.entries(body.form).map(([name, value]) => ({ name, value })) }
  } else if (body) {
    const mimeType = 'application/json'
    har.headers.push({ name: 'Content-Type', value: mimeType })
    har.postData = { mimeType, text: JSON.stringify(body.json) }
  }
  return har
}

/**
 * httpsnippet 3's Node axios client writes `require()` beside a top-level `await`, which no
 * Node module accepts (CommonJS has no top-level await; ESM has no require). As an ES module
 * it runs on Node 20 as is: import axios, and use the global URLSearchParams.
 */
function asNodeModule(source: string): string {
  return source
    .replace("const axios = require('axios').default;", "import axios from 'axios';")
    .replace("const { URLSearchParams } = require('url');\n", '')
}

/** The request as code in one language: httpsnippet's output, made to run where it would not. */
export function snippet(request: SnippetRequest, id: SnippetLanguageId): string {
  const chosen = language(id)
  const converted = new HTTPSnippet(toHar(request)).convert(chosen.target, chosen.client)
  if (typeof converted !== 'string') throw new Error(`httpsnippet wrote nothing for ${chosen.target}/${chosen.client}`)
  return id === 'node' ? asNodeModule(converted) : converted
}

/** The request in every language, as x-codeSamples entries. */
export function codeSamples(request: SnippetRequest, languages: readonly SnippetLanguage[] = LANGUAGES): CodeSample[] {
  return languages.map((entry) => ({ lang: entry.lang, label: entry.label, source: snippet(request, entry.id) }))
}
