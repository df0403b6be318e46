/**
 * Device-flow login (RFC 8628) for CLIs and devices without a browser: part of
 * `gatehouse-client`. Platform only (fetch, timers), never server code.
 */
import { basicAuthorization, exchange, invalidResponse, isRecord, oauthError, optionalSeconds, optionalString, type ClientAuthentication, type WireAnswer, type WireContext } from './dialects/dialect.js'
import { TokenClientError } from './token-client-error.js'

/** RFC 8628 §3.4: the grant type the device polls the token endpoint with. */
export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code'

/** RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default." */
const DEFAULT_INTERVAL_SECONDS = 5
/** RFC 8628 §3.5 slow_down: the interval grows by 5 seconds. */
const SLOW_DOWN_SECONDS = 5
/** After a failed request the wait doubles (§3.5: back off exponentially), up to this. */
const MAX_BACKOFF_SECONDS = 60

const PATHS = {
  standard: { deviceAuthorization: '/oauth/device_authorization', token: '/oauth/token' },
  identityserver: { deviceAuthorization: '/connect/deviceauthorization', token: '/connect/token' },
} as const

/**
 * What to show the person: the code to type and where (RFC 8628 §3.3).
 *
 * @example
 * ```ts
 * const onCode = (prompt: DeviceCodePrompt) => {
 *   console.log(`! First copy your one-time code: ${prompt.userCode}`)
 *   console.log(`Open ${prompt.verificationUri} in your browser`)
 * }
 * ```
 */
export interface DeviceCodePrompt {
  /** The code to type, e.g. `BCDF-GHJK`. */
  userCode: string
  /** Where to type it, e.g. `https://auth.example.com/device`. */
  verificationUri: string
  /** The same page with the code filled in (for a link or a QR code), when the server sends one. */
  verificationUriComplete: string | undefined
  /** Seconds until the code expires. */
  expiresIn: number
}

/**
 * Options of {@link deviceLogin}. Give `issuer` (the server's base URL), or both URLs.
 *
 * @example
 * ```ts
 * const options: DeviceLoginOptions = {
 *   issuer: 'https://auth.example.com',
 *   clientId: 'my-cli',
 *   scope: ['openid', 'profile', 'offline_access'],
 *   onCode: ({ userCode, verificationUri }) => console.log(`Type ${userCode} at ${verificationUri}`),
 * }
 * ```
 */
export interface DeviceLoginOptions {
  /** The Gatehouse base URL, e.g. `https://auth.example.com`; the dialect's paths are appended. */
  issuer?: string
  /** `standard` (default): `/oauth/device_authorization` and `/oauth/token`; `identityserver`: `/connect/deviceauthorization` and `/connect/token`. */
  dialect?: 'standard' | 'identityserver'
  /** The full device authorization endpoint URL; overrides `issuer` + the dialect's path. */
  deviceAuthorizationUrl?: string
  /** The full token endpoint URL; overrides `issuer` + the dialect's path. */
  tokenUrl?: string
  clientId: string
  /** Only for a confidential client; a public client (a CLI) sends its client_id alone. */
  clientSecret?: string
  /** How to send `clientSecret` (default: Basic for standard, post for identityserver). */
  clientAuthentication?: ClientAuthentication
  /** Requested scope (RFC 6749 §3.3), as a space-separated string or a list. Omit for the client's default. */
  scope?: string | readonly string[]
  /** Called once with the code and the URL to show the person; polling starts when it returns. */
  onCode(prompt: DeviceCodePrompt): void | Promise<void>
  /** Stops waiting: the promise rejects with the signal's reason. */
  signal?: AbortSignal
  /** The fetch to use (default: the global fetch). */
  fetch?: typeof globalThis.fetch
  /** Milliseconds since the epoch, for the code's expiry (default: Date.now). */
  clock?: { now(): number }
  /** Waits between polls (default: a timer, cut short by `signal`); inject one to control time in tests. */
  sleep?(ms: number, signal?: AbortSignal): Promise<void>
}

/**
 * The tokens of a completed device login.
 *
 * @example
 * ```ts
 * const tokens: DeviceLoginTokens = await deviceLogin(options)
 * await fetch('https://api.example.com/me', { headers: { authorization: `Bearer ${tokens.accessToken}` } })
 * ```
 */
export interface DeviceLoginTokens {
  accessToken: string
  tokenType: string
  /** Seconds, when the server said. */
  expiresIn: number | undefined
  /** When the client may have one (the refresh_token grant, or offline_access for identityserver). */
  refreshToken: string | undefined
  /** OpenID Connect: with the `openid` scope. */
  idToken: string | undefined
  scope: string | undefined
}

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const abort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', abort, { once: true })
  })

/**
 * Signs a person in on a device or in a CLI with the device authorization grant (RFC 8628):
 * asks Gatehouse for a code, hands it to `onCode` to show ("open this URL, type this code"),
 * then polls the token endpoint every `interval` seconds (5 s longer after each `slow_down`,
 * backing off after a failed request) until the person allows or denies it on their phone or
 * laptop. Resolves with the tokens; rejects with a {@link TokenClientError} whose `code` is the
 * server's RFC 8628 §3.5 error (`access_denied`, `expired_token`, …), or `expired_token` when
 * the code's lifetime ran out here first.
 *
 * @example
 * ```ts
 * import { deviceLogin, TokenClientError } from 'gatehouse-client'
 *
 * try {
 *   const tokens = await deviceLogin({
 *     issuer: 'https://auth.example.com',
 *     clientId: 'my-cli',
 *     scope: 'openid profile email',
 *     onCode: ({ userCode, verificationUri }) => {
 *       console.log(`! First copy your one-time code: ${userCode}`)
 *       console.log(`Open ${verificationUri} in your browser`)
 *     },
 *   })
 *   console.log('signed in; access token expires in', tokens.expiresIn, 's')
 * } catch (error) {
 *   if (error instanceof TokenClientError && error.code === 'access_denied') console.error('denied in the browser')
 *   else throw error
 * }
 * ```
 */
export async function deviceLogin(options: DeviceLoginOptions): Promise<DeviceLoginTokens> {
  const dialect = options.dialect ?? 'standard'
  const issuer = options.issuer?.replace(/\/+$/, '')
  const deviceAuthorizationUrl = options.deviceAuthorizationUrl ?? (issuer === undefined ? undefined : issuer + PATHS[dialect].deviceAuthorization)
  const tokenUrl = options.tokenUrl ?? (issuer === undefined ? undefined : issuer + PATHS[dialect].token)
  if (deviceAuthorizationUrl === undefined || tokenUrl === undefined) throw new TypeError('deviceLogin needs an issuer, or deviceAuthorizationUrl and tokenUrl')
  const fetchImpl = options.fetch ?? globalThis.fetch
  const context: WireContext = {
    fetch: (input, init) => fetchImpl(input, { ...init, ...(options.signal ? { signal: options.signal } : {}) }),
    tokenUrl,
    refreshUrl: tokenUrl,
    clientAuthentication: options.clientAuthentication ?? (dialect === 'standard' ? 'client_secret_basic' : 'client_secret_post'),
    scope: normaliseScope(options.scope),
  }
  const sleep = options.sleep ?? defaultSleep
  const clock = options.clock ?? { now: () => Date.now() }
  const post = async (url: string, parameters: Record<string, string>): Promise<WireAnswer> => {
    try {
      return await send(dialect, context, options, url, parameters)
    } catch (error) {
      // Aborted mid-request: the caller's reason, not a network failure.
      if (options.signal?.aborted) throw options.signal.reason
      throw error
    }
  }

  const startedAt = clock.now()
  const started = readDeviceAuthorization(dialect, await post(deviceAuthorizationUrl, context.scope === undefined ? {} : { scope: context.scope }))
  await options.onCode({ userCode: started.userCode, verificationUri: started.verificationUri, verificationUriComplete: started.verificationUriComplete, expiresIn: started.expiresIn })

  const deadline = startedAt + started.expiresIn * 1000
  let interval = started.interval
  let wait = interval
  for (;;) {
    // §3.5: wait `interval` between requests, the first one included (nobody has typed the code yet).
    await sleep(wait * 1000, options.signal)
    if (options.signal?.aborted) throw options.signal.reason
    if (clock.now() >= deadline) throw new TokenClientError({ code: 'expired_token', dialect, description: 'the code expired before it was approved' })
    let answer: WireAnswer
    try {
      answer = await post(tokenUrl, { grant_type: DEVICE_CODE_GRANT_TYPE, device_code: started.deviceCode })
    } catch (error) {
      if (!(error instanceof TokenClientError) || error.code !== 'request_failed') throw error
      wait = Math.min(wait * 2, MAX_BACKOFF_SECONDS)
      continue
    }
    if (answer.status === 200) return readTokens(dialect, answer)
    const error = oauthError(dialect, answer)
    if (error.code === 'authorization_pending') {
      wait = interval
    } else if (error.code === 'slow_down') {
      interval += SLOW_DOWN_SECONDS
      wait = interval
    } else if (answer.status >= 500 || answer.status === 429) {
      // An outage or a rate limit: poll less often until it passes.
      wait = Math.min(Math.max(wait, interval) * 2, MAX_BACKOFF_SECONDS)
    } else {
      throw error
    }
  }
}

type Dialect = 'standard' | 'identityserver'

/** One form post, with the client's credentials: HTTP Basic or the body with a secret, `client_id` alone without one. */
function send(dialect: Dialect, context: WireContext, options: DeviceLoginOptions, url: string, parameters: Record<string, string>): Promise<WireAnswer> {
  const form = new URLSearchParams(parameters)
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
  if (options.clientSecret !== undefined && context.clientAuthentication === 'client_secret_basic') {
    headers.authorization = basicAuthorization(options.clientId, options.clientSecret)
  } else {
    form.set('client_id', options.clientId)
    if (options.clientSecret !== undefined) form.set('client_secret', options.clientSecret)
  }
  return exchange(dialect, context, url, { headers, body: form.toString() })
}

interface StartedLogin {
  deviceCode: string
  userCode: string
  verificationUri: string
  verificationUriComplete: string | undefined
  expiresIn: number
  interval: number
}

/** RFC 8628 §3.2: device_code, user_code, verification_uri and expires_in are required; interval defaults to 5. */
function readDeviceAuthorization(dialect: Dialect, answer: WireAnswer): StartedLogin {
  if (answer.status !== 200) throw oauthError(dialect, answer)
  const body = answer.body
  if (!isRecord(body)) throw invalidResponse(dialect, answer.status, 'the device authorization answer is not an object')
  const deviceCode = optionalString(body.device_code)
  const userCode = optionalString(body.user_code)
  const verificationUri = optionalString(body.verification_uri)
  const expiresIn = optionalSeconds(body.expires_in)
  if (deviceCode === undefined || userCode === undefined || verificationUri === undefined || expiresIn === undefined) {
    throw invalidResponse(dialect, answer.status, 'device_code, user_code, verification_uri or expires_in is missing')
  }
  const interval = optionalSeconds(body.interval)
  return { deviceCode, userCode, verificationUri, verificationUriComplete: optionalString(body.verification_uri_complete), expiresIn, interval: interval !== undefined && interval >= 1 ? interval : DEFAULT_INTERVAL_SECONDS }
}

/** RFC 6749 §5.1, with OpenID Connect's id_token. */
function readTokens(dialect: Dialect, answer: WireAnswer): DeviceLoginTokens {
  const body = answer.body
  if (!isRecord(body) || typeof body.access_token !== 'string' || body.access_token === '') throw invalidResponse(dialect, answer.status, 'no access_token in the answer')
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') throw invalidResponse(dialect, answer.status, 'token_type is not Bearer')
  return {
    accessToken: body.access_token,
    tokenType: body.token_type,
    expiresIn: optionalSeconds(body.expires_in),
    refreshToken: optionalString(body.refresh_token),
    idToken: optionalString(body.id_token),
    scope: optionalString(body.scope),
  }
}

function normaliseScope(scope: string | readonly string[] | undefined): string | undefined {
  if (scope === undefined) return undefined
  const joined = typeof scope === 'string' ? scope.trim() : scope.join(' ')
  return joined === '' ? undefined : joined
}
