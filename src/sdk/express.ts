/** `gatehouse/express`: re-exports `gatehouse-verify/express` (packages/verify). */
export * from 'gatehouse-verify/express'
export { default } from 'gatehouse-verify/express'
