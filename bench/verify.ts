/**
 * `npm run bench -- verify [--seconds N] [--rounds N] [--concurrency N]`: the resource-server verifier
 * (gatehouse-verify) beside raw `jose.jwtVerify` with a local key and the same checks, in one
 * run, rounds alternating so machine noise hits both alike; and the cached opaque-token path.
 */
import { createHash, randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose'
import { createVerifier } from '../src/sdk/verify.js'
import { stealNote } from './cpu-steal.js'

const ISSUER = 'https://issuer.bench'
const AUDIENCE = 'https://api.bench'

interface Options {
  seconds: number
  concurrency: number
  rounds: number
}

function parseOptions(args: string[]): Options {
  const value = (flag: string, fallback: number): number => {
    const index = args.indexOf(flag)
    const parsed = index === -1 ? fallback : Number(args[index + 1])
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${flag} needs a positive number`)
    return parsed
  }
  return { seconds: value('--seconds', 1), concurrency: value('--concurrency', 32), rounds: value('--rounds', 9) }
}

/** Runs `check` with `concurrency` calls in flight for `seconds` (or until `more` says no); returns checks per second. */
async function measure(check: () => Promise<unknown>, seconds: number, concurrency: number, more: () => boolean = () => true): Promise<number> {
  const end = performance.now() + seconds * 1000
  let done = 0
  const worker = async (): Promise<void> => {
    while (performance.now() < end && more()) {
      await check()
      done++
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return done / ((performance.now() - start) / 1000)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

export async function main(args: string[]): Promise<void> {
  const options = parseOptions(args)
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: 'bench-key', alg: 'ES256', use: 'sig' }
  const now = Math.floor(Date.now() / 1000)
  const claims = { sub: 'user-1', client_id: 'client-1', scope: 'openid integrated-api', jti: 'bench' }
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'bench-key' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(privateKey)

  let jwksFetches = 0
  let introspections = 0
  const issuer = createServer((request, response) => {
    if (request.url === '/.well-known/jwks.json') {
      jwksFetches++
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }))
      return
    }
    introspections++
    const answer = { active: true, iss: ISSUER, aud: AUDIENCE, sub: 'user-1', client_id: 'client-1', scope: 'openid integrated-api', exp: now + 3600, token_type: 'Bearer' }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
  })
  const issuerUrl = await listen(issuer)

  try {
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      requiredScopes: ['integrated-api'],
      jwksUri: `${issuerUrl}/.well-known/jwks.json`,
      introspection: { clientId: 'rs', clientSecret: 'rs-secret', url: `${issuerUrl}/oauth/introspect`, cacheTtlSeconds: 3600 },
    })
    const localKey = await importJWK(publicJwk, 'ES256')
    const rawOptions = { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', algorithms: ['ES256'], clockTolerance: 5, requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'] }
    const raw = (): Promise<unknown> => jwtVerify(token, localKey, rawOptions)
    const viaVerifier = (): Promise<unknown> => verifier.verify(token)
    // DPoP (RFC 9449 §7): a token bound to a key, each check with its own proof, signed beforehand (distinct jti) so signing is not measured.
    const dpopKey = await generateKeyPair('ES256')
    const dpopJwk = await exportJWK(dpopKey.publicKey)
    const boundToken = await new SignJWT({ ...claims, cnf: { jkt: await calculateJwkThumbprint(dpopJwk, 'sha256') } })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'bench-key' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(privateKey)
    const resourceUrl = 'https://api.bench/records'
    const ath = createHash('sha256').update(boundToken).digest('base64url')
    let proofs: string[] = []
    const signProofs = async (count: number): Promise<void> => {
      const iat = Math.floor(Date.now() / 1000)
      proofs = await Promise.all(Array.from({ length: count }, () => new SignJWT({ htm: 'GET', htu: resourceUrl, jti: randomUUID(), iat, ath }).setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: dpopJwk }).sign(dpopKey.privateKey)))
    }
    const viaDpop = (): Promise<unknown> => verifier.verify(boundToken, { dpop: { proof: proofs.pop(), method: 'GET', url: resourceUrl } })
    const measureDpop = async (seconds: number, expectedRate: number): Promise<number> => {
      // DPoP checks a second signature: the plain verifier's rate is more proofs than it can use.
      await signProofs(Math.ceil(expectedRate * seconds) + 100)
      return measure(viaDpop, seconds, options.concurrency, () => proofs.length > 0)
    }
    const opaque = 'sk-0123456789abcdef0123456789abcdef'
    const viaIntrospectionCache = (): Promise<unknown> => verifier.verify(opaque)

    // Warm up: JIT, key import, the JWKS fetch and the first introspection.
    for (const check of [raw, viaVerifier, viaIntrospectionCache]) await measure(check, 0.5, options.concurrency)
    await measureDpop(0.5, 20_000)

    // Pairs of short rounds, the order swapped each time, so drift and neighbours' load hit
    // both sides alike; the ratio is the median of the per-pair ratios.
    const results = { raw: [] as number[], verifier: [] as number[], ratio: [] as number[], rawSequential: [] as number[], verifierSequential: [] as number[], ratioSequential: [] as number[], opaque: [] as number[], dpop: [] as number[], dpopRatio: [] as number[] }
    const pair = async (concurrency: number, seconds: number): Promise<[number, number]> => {
      if (results.ratio.length % 2 === 0) {
        const rawRate = await measure(raw, seconds, concurrency)
        return [rawRate, await measure(viaVerifier, seconds, concurrency)]
      }
      const verifierRate = await measure(viaVerifier, seconds, concurrency)
      return [await measure(raw, seconds, concurrency), verifierRate]
    }
    for (let round = 0; round < options.rounds; round++) {
      const [rawRate, verifierRate] = await pair(options.concurrency, options.seconds)
      results.raw.push(rawRate)
      results.verifier.push(verifierRate)
      results.ratio.push(verifierRate / rawRate)
      const [rawSequential, verifierSequential] = await pair(1, options.seconds / 2)
      results.rawSequential.push(rawSequential)
      results.verifierSequential.push(verifierSequential)
      results.ratioSequential.push(verifierSequential / rawSequential)
      results.opaque.push(await measure(viaIntrospectionCache, options.seconds / 2, options.concurrency))
      const dpopRate = await measureDpop(options.seconds, verifierRate)
      results.dpop.push(dpopRate)
      results.dpopRatio.push(dpopRate / verifierRate)
    }

    const percent = (ratios: number[]): string => `${(median(ratios) * 100).toFixed(1)}% of raw (median of ${ratios.length} paired rounds)`
    const rows: [string, number, string][] = [
      [`raw jose.jwtVerify, local key (${options.concurrency} in flight)`, median(results.raw), 'baseline'],
      [`gatehouse-verify JWT (${options.concurrency} in flight)`, median(results.verifier), percent(results.ratio)],
      ['raw jose.jwtVerify, local key (one at a time)', median(results.rawSequential), 'baseline'],
      ['gatehouse-verify JWT (one at a time)', median(results.verifierSequential), percent(results.ratioSequential)],
      [`gatehouse-verify DPoP-bound JWT + proof (${options.concurrency} in flight)`, median(results.dpop), `${(median(results.dpopRatio) * 100).toFixed(1)}% of the bearer JWT check (in-memory replay cache)`],
      [`gatehouse-verify opaque, cached introspection (${options.concurrency} in flight)`, median(results.opaque), `${introspections} introspection request(s) in all`],
    ]
    const width = Math.max(...rows.map(([label]) => label.length))
    process.stdout.write(`verify benchmark: median of ${options.rounds} rounds of ${options.seconds}s, Node ${process.version}\n\n`)
    process.stdout.write(`${'check'.padEnd(width)}  ${'checks/s'.padStart(10)}  note\n`)
    for (const [label, rate, note] of rows) process.stdout.write(`${label.padEnd(width)}  ${Math.round(rate).toString().padStart(10)}  ${note}\n`)
    process.stdout.write(`\nJWKS fetched ${jwksFetches} time(s). Target: the verifier at >= 90% of raw jose.\n${stealNote()}\n`)
  } finally {
    issuer.closeAllConnections()
    await new Promise((resolve) => issuer.close(resolve))
  }
}
