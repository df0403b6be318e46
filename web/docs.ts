/**
 * The interactive API reference at /docs: mounts Scalar (its standalone bundle, served by
 * Gatehouse at /assets/scalar/HASH/standalone.js and loaded before this module) on
 * /openapi.json. Code samples are the document's own x-codeSamples, generated on the server by
 * src/snippets/; Scalar's built-in generators are hidden so each language appears once.
 */

interface ScalarGlobal {
  createApiReference(selector: string, configuration: Record<string, unknown>): unknown
}

const scalar = (window as unknown as { Scalar?: ScalarGlobal }).Scalar
const mount = document.getElementById('reference')

if (!scalar || !mount) {
  if (mount) mount.textContent = 'The reference script did not load; the document itself is at /openapi.json.'
} else {
  scalar.createApiReference('#reference', {
    url: '/openapi.json',
    // No third party: fonts, telemetry, the AI agent and the MCP button would call scalar.com.
    withDefaultFonts: false,
    telemetry: false,
    agent: { disabled: true },
    mcp: { disabled: true },
    showDeveloperTools: 'never',
    hiddenClients: true,
    documentDownloadType: 'json',
    hideDarkModeToggle: false,
    // No preferredSecurityScheme: each operation's "try it" starts on its own first scheme, client
    // credentials (HTTP Basic) at the token endpoints, an operator bearer token on the admin API.
    // Long enum values and constants (urn:ietf:params:…) wrap instead of widening a 390 px page.
    customCss: '.property-const, .property-detail-truncate, .property-detail-value { max-width: 100%; overflow-wrap: anywhere; white-space: normal; }',
    // The pasted credentials stay in this tab's memory (not localStorage).
    persistAuth: false,
  })
}
