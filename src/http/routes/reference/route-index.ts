import type { FastifyInstance } from 'fastify'

export interface RegisteredRoute {
  method: string
  url: string
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route the server registered (by an onRoute hook), for the OpenAPI coverage check. */
    registeredRoutes: readonly RegisteredRoute[]
  }
}

/** Records every route registered after this call, on this instance and its children. */
export function indexRoutes(app: FastifyInstance): void {
  const routes: RegisteredRoute[] = []
  app.decorate('registeredRoutes', routes)
  app.addHook('onRoute', (route) => {
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) routes.push({ method, url: route.url })
  })
}
