/**
 * `gatehouse/client`: the token client now lives in the `gatehouse-client` package
 * (packages/client); this module keeps the root package's export and the repository's own
 * imports working.
 */
export * from 'gatehouse-client'
