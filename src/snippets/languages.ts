/**
 * The languages Gatehouse shows snippets in, each one httpsnippet target and client. `lang` is
 * the value of an OpenAPI `x-codeSamples` entry (the names Scalar's language switcher knows).
 */
export interface SnippetLanguage {
  /** Our name for it: also the marker in docs/dialects.md and the console's choice. */
  id: SnippetLanguageId
  /** What a reader sees on the tab. */
  label: string
  /** x-codeSamples `lang`. */
  lang: string
  target: 'shell' | 'javascript' | 'node' | 'python' | 'go' | 'java' | 'csharp' | 'ruby' | 'php' | 'swift'
  client: string
}

export type SnippetLanguageId = 'curl' | 'javascript' | 'node' | 'python' | 'go' | 'java' | 'csharp' | 'ruby' | 'php' | 'swift'

export const LANGUAGES: readonly SnippetLanguage[] = [
  { id: 'curl', label: 'curl', lang: 'shell', target: 'shell', client: 'curl' },
  { id: 'javascript', label: 'JavaScript (fetch)', lang: 'javascript', target: 'javascript', client: 'fetch' },
  { id: 'node', label: 'Node.js (axios)', lang: 'node', target: 'node', client: 'axios' },
  { id: 'python', label: 'Python (requests)', lang: 'python', target: 'python', client: 'requests' },
  { id: 'go', label: 'Go (net/http)', lang: 'go', target: 'go', client: 'native' },
  { id: 'java', label: 'Java (java.net.http)', lang: 'java', target: 'java', client: 'nethttp' },
  { id: 'csharp', label: 'C# (HttpClient)', lang: 'csharp', target: 'csharp', client: 'httpclient' },
  { id: 'ruby', label: 'Ruby (Net::HTTP)', lang: 'ruby', target: 'ruby', client: 'native' },
  { id: 'php', label: 'PHP (cURL)', lang: 'php', target: 'php', client: 'curl' },
  { id: 'swift', label: 'Swift (URLSession)', lang: 'swift', target: 'swift', client: 'nsurlsession' },
]

export function language(id: SnippetLanguageId): SnippetLanguage {
  const found = LANGUAGES.find((entry) => entry.id === id)
  if (!found) throw new Error(`unknown snippet language ${id}`)
  return found
}
