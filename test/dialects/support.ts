import { execFile } from 'node:child_process'
import assert from 'node:assert/strict'
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose'
import { request } from '../helpers/http.js'

export interface CurlAnswer {
  status: number
  headers: Record<string, string>
  body: unknown
  text: string
}

/**
 * Runs a seed's curl command line through bash with the real `curl` binary, as a reader
 * would paste it, adding only `-sS -i` to capture the status line and headers.
 */
export function runCurl(commandLine: string): Promise<CurlAnswer> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', `${commandLine} -sS -i`], { timeout: 15_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`curl failed: ${stderr || error.message}`))
      const split = stdout.indexOf('\r\n\r\n')
      const head = stdout.slice(0, split).split('\r\n')
      const text = stdout.slice(split + 4)
      const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(head[0] ?? '')?.[1])
      const headers: Record<string, string> = {}
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':')
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
      }
      let body: unknown
      try {
        body = text === '' ? undefined : JSON.parse(text)
      } catch {
        body = undefined
      }
      resolve({ status, headers, body, text })
    })
  })
}

/** Verifies a JWT access token the way a resource server would: only the published JWKS. */
export async function verifyWithJwks(baseUrl: string, token: string): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(`${baseUrl}/.well-known/jwks.json`))
  const { payload } = await jwtVerify(token, jwks, { issuer: baseUrl, typ: 'at+jwt' })
  return payload
}

/** RFC 7662 introspection at the standard endpoint, by any authenticated client. */
export async function introspect(baseUrl: string, as: { id: string; secret: string }, token: string): Promise<Record<string, unknown>> {
  const answer = await request(`${baseUrl}/oauth/introspect`, { form: { token }, basic: as })
  assert.equal(answer.status, 200, answer.text)
  return answer.body as Record<string, unknown>
}

export const isInt32 = (value: unknown): boolean => Number.isInteger(value) && (value as number) >= -(2 ** 31) && (value as number) < 2 ** 31
