import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { DEFAULT_DIALECT_PATHS, DIALECT_NAMES, readConfigFile, resolveDialects, STANDARD_ROUTE_PATHS, type DialectsConfig } from '../dialect-config.js'

/**
 * Dialect settings in configuration as code. They are server settings that `serve` reads from
 * its JSON config file (`--config`, GATEHOUSE_CONFIG; docs/dialects.md), not from the database,
 * so `apply` writes them into that file and they take effect when the server restarts.
 * Flags and environment variables (--dialects, GATEHOUSE_DIALECTS, …) still win over the file.
 */

/** `canary.enabled`, `wrapped.paths.token`, … → value: the form the planner compares. */
export function flattenDialects(config: DialectsConfig): Record<string, unknown> {
  const flat: Record<string, unknown> = {}
  for (const name of DIALECT_NAMES) {
    flat[`${name}.enabled`] = config[name].enabled
    for (const [route, path] of Object.entries(config[name].paths)) flat[`${name}.paths.${route}`] = path
  }
  return flat
}

/** The file form: every dialect's `enabled`, and the paths that differ from the defaults. */
export function dialectsSection(flat: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const section: Record<string, { enabled: unknown; paths?: Record<string, unknown> }> = {}
  for (const name of DIALECT_NAMES) {
    const defaults: Record<string, string> = { ...DEFAULT_DIALECT_PATHS[name] }
    const paths = Object.fromEntries(Object.keys(defaults).filter((route) => flat[`${name}.paths.${route}`] !== defaults[route]).map((route) => [route, flat[`${name}.paths.${route}`]]))
    section[name] = { enabled: flat[`${name}.enabled`], ...(Object.keys(paths).length > 0 ? { paths } : {}) }
  }
  return section
}

/** What a `dialects` section comes to over the defaults; throws DialectConfigError when it cannot be. */
export function resolveDialectsSection(section: unknown, from: string): Record<string, unknown> {
  return flattenDialects(resolveDialects({ file: { path: from, content: { dialects: section } }, reserved: STANDARD_ROUTE_PATHS }))
}

/** The dialect settings of a config file (the defaults without one, or while it does not exist: apply makes it). */
export function dialectsOfConfigFile(path: string | undefined): Record<string, unknown> {
  const file = path !== undefined && existsSync(path) ? readConfigFile(path) : undefined
  return flattenDialects(resolveDialects({ file, reserved: STANDARD_ROUTE_PATHS }))
}

/** Writes the settings as the file's `dialects` member, keeping its other members (a missing file is made). */
export function writeDialectsToConfigFile(path: string, flat: Readonly<Record<string, unknown>>): void {
  let content: Record<string, unknown> = {}
  try {
    content = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  writeFileSync(path, `${JSON.stringify({ ...content, dialects: dialectsSection(flat) }, null, 2)}\n`)
}

/** The JSON Schema of a `dialects` section: the dialects and routes that exist, nothing else. */
export function dialectsSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = {}
  for (const name of DIALECT_NAMES) {
    const routes = Object.fromEntries(Object.keys(DEFAULT_DIALECT_PATHS[name]).map((route) => [route, { type: 'string', pattern: '^(/[A-Za-z0-9._~-]+)+/?$' }]))
    properties[name] = {
      type: 'object',
      additionalProperties: false,
      properties: { enabled: { type: 'boolean' }, paths: { type: 'object', additionalProperties: false, properties: routes } },
    }
  }
  return { type: 'object', additionalProperties: false, properties, description: 'Seed dialects: on or off, and their paths (docs/dialects.md). Written into the server config file; effective at restart.' }
}
