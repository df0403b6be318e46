/**
 * `npm run bench [-- NAME [args…]]`: runs one benchmark script from bench/. Each prints its
 * figures beside its baseline, measured in the same run.
 */
const benches: Record<string, () => Promise<{ main(args: string[]): Promise<void> }>> = {
  tokens: () => import('./tokens.js'),
  scale: () => import('./scale.js'),
  verify: () => import('./verify.js'),
  soak: () => import('./soak.js'),
  'login-flood': () => import('./login-flood.js'),
  peers: () => import('./peers.js'),
  introspect: () => import('./introspect.js'),
  authorize: () => import('./authorize.js'),
  refresh: () => import('./refresh.js'),
}

const [name = 'tokens', ...args] = process.argv.slice(2)
const load = benches[name]
if (!load) {
  process.stderr.write(`unknown benchmark "${name}"; one of: ${Object.keys(benches).join(', ')}\n`)
  process.exit(2)
}
await (await load()).main(args)
