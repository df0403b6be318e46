/**
 * `gatehouse/verify`: the verifier now lives in the `gatehouse-verify` package
 * (packages/verify); this module keeps the root package's export and the repository's own
 * imports working.
 */
export * from 'gatehouse-verify'
