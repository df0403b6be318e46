import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pino from 'pino'
import { RequestLogger } from '../../src/http/request-logger.js'
import { LogCapture } from '../helpers/server.js'

function setup(level: string): { capture: LogCapture; parent: pino.Logger; lines(): Record<string, unknown>[] } {
  const capture = new LogCapture()
  const parent = pino({ level, redact: { paths: ['*.password'], censor: '[redacted]' } }, capture)
  return { capture, parent, lines: () => capture.lines.map((line) => JSON.parse(line) as Record<string, unknown>) }
}

describe('RequestLogger (the per-request logger Fastify is given)', () => {
  it('writes enabled lines with the request id, exactly as a pino child would', () => {
    const { parent, lines } = setup('info')
    const log = new RequestLogger(parent, { reqId: 'r-1' }, {})
    log.info({ route: '/oauth/token' }, 'request completed')
    log.warn('plain message')
    assert.deepEqual(
      lines().map(({ reqId, route, msg, level }) => ({ reqId, route, msg, level })),
      [
        { reqId: 'r-1', route: '/oauth/token', msg: 'request completed', level: 30 },
        { reqId: 'r-1', route: undefined, msg: 'plain message', level: 40 },
      ],
    )
  })

  it('writes nothing below the level, and makes no pino child until a line is written', () => {
    const { parent, lines } = setup('warn')
    let children = 0
    const counting = Object.assign(Object.create(parent) as pino.Logger, {
      child: (...args: Parameters<pino.Logger['child']>) => {
        children++
        return parent.child(...args)
      },
    })
    const log = new RequestLogger(counting, { reqId: 'r-2' }, {})
    log.info('incoming request')
    log.debug('detail')
    assert.equal(children, 0)
    assert.deepEqual(lines(), [])
    log.error({ reason: 'boom' }, 'request failed')
    log.error('again')
    assert.equal(children, 1, 'one child, made on the first written line and kept')
    assert.deepEqual(lines().map(({ reqId, msg }) => ({ reqId, msg })), [
      { reqId: 'r-2', msg: 'request failed' },
      { reqId: 'r-2', msg: 'again' },
    ])
  })

  it('keeps redaction, level changes and nested children', () => {
    const { parent, lines } = setup('warn')
    const log = new RequestLogger(parent, { reqId: 'r-3' }, {})
    assert.equal(log.level, 'warn')
    log.level = 'debug'
    assert.equal(log.level, 'debug')
    assert.equal(parent.level, 'warn', 'the parent keeps its own level')
    log.debug({ body: { password: 'hunter2' } }, 'parsed')
    log.child({ step: 'grant' }).warn('nested')
    assert.deepEqual(lines(), [
      { ...lines()[0], reqId: 'r-3', body: { password: '[redacted]' }, msg: 'parsed', level: 20 },
      { ...lines()[1], reqId: 'r-3', step: 'grant', msg: 'nested', level: 40 },
    ])
    assert.ok(!JSON.stringify(lines()).includes('hunter2'))
  })
})
