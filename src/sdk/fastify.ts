/** `gatehouse/fastify`: re-exports `gatehouse-verify/fastify` (packages/verify). */
export * from 'gatehouse-verify/fastify'
export { default } from 'gatehouse-verify/fastify'
