/** Code snippets in ten languages from one generator (httpsnippet): the reference, the docs and the console use it. */
export { codeSamples, snippet, type CodeSample } from './generate.js'
export { LANGUAGES, language, type SnippetLanguage, type SnippetLanguageId } from './languages.js'
export { basicAuthorization, type SnippetRequest } from './request.js'
export { apiKeyTokenRequest, tokenRequest, tokenRequestSnippet, ASSERTION_PLACEHOLDER, API_KEY_PLACEHOLDER, SECRET_PLACEHOLDER, type TokenRequestClient } from './token-request.js'
