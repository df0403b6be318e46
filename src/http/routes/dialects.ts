import type { FastifyInstance } from 'fastify'
import type { Engine } from '../../core/engine.js'
import type { DialectsConfig } from '../../dialect-config.js'
import type { ErrorShaper } from '../dialects/dialect.js'
import { wrapped } from '../dialects/wrapped.js'
import { registerCanaryRoutes } from './canary.js'
import { registerIdentityServerRoutes } from './identityserver.js'
import { registerWrappedRoutes } from './wrapped.js'

/** A dialect that answers unknown paths under `prefix` in its own shape. */
export interface NotFoundOwner {
  prefix: string
  shaper: ErrorShaper
}

/** Registers the seed dialects that are switched on; returns who owns which 404s. */
export async function registerSeedDialects(app: FastifyInstance, engine: Engine, dialects: DialectsConfig): Promise<NotFoundOwner[]> {
  const owners: NotFoundOwner[] = []
  if (dialects.canary.enabled) await registerCanaryRoutes(app, engine, dialects.canary.paths)
  if (dialects.identityserver.enabled) registerIdentityServerRoutes(app, engine, dialects.identityserver.paths)
  if (dialects.wrapped.enabled) {
    registerWrappedRoutes(app, engine, dialects.wrapped.paths)
    owners.push({ prefix: dialects.wrapped.paths.notFoundPrefix, shaper: wrapped })
  }
  return owners
}
