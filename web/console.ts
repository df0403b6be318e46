/**
 * The developer console's only script: copy buttons, delete confirmations, the snippet language. The pages work
 * without it (forms post normally); it adds comfort, not function.
 */

async function copy(button: HTMLButtonElement): Promise<void> {
  const target = document.getElementById(button.dataset.copy ?? '')
  const text = target?.textContent ?? ''
  try {
    await navigator.clipboard.writeText(text)
    button.textContent = 'Copied'
  } catch {
    // No clipboard permission: select the text so Ctrl+C works.
    const range = document.createRange()
    if (target) range.selectNodeContents(target)
    const selection = window.getSelection()
    selection?.removeAllRanges()
    selection?.addRange(range)
    button.textContent = 'Press Ctrl+C'
  }
  window.setTimeout(() => (button.textContent = 'Copy'), 2000)
}

for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-copy]')) {
  button.hidden = false
  button.addEventListener('click', () => void copy(button))
}

for (const form of document.querySelectorAll<HTMLFormElement>('form[data-confirm]')) {
  form.addEventListener('submit', (event) => {
    if (!window.confirm(form.dataset.confirm ?? 'Are you sure?')) event.preventDefault()
  })
}

// Generate page: the redirect URIs field, and the client authentication choice, only for the
// application types that use them. Without this script they are always shown, and the server
// ignores them for the other types.
const types = [...document.querySelectorAll<HTMLInputElement>('input[name="app_type"]')]
const redirectUris = document.getElementById('redirect-uris-field')
const clientAuth = document.getElementById('client-auth-field')
if (types.length > 0 && (redirectUris || clientAuth)) {
  const update = (): void => {
    const chosen = types.find((input) => input.checked)
    if (redirectUris) redirectUris.hidden = chosen?.dataset.redirectUris !== 'yes'
    if (clientAuth) clientAuth.hidden = chosen?.dataset.clientAuth !== 'yes'
  }
  for (const input of types) input.addEventListener('change', update)
  update()
}

// "Get a token": one snippet per language, curl shown; the choice reveals another. Without
// this script the choice stays hidden and curl is the one to copy.
const snippetChoice = document.getElementById('snippet-language')
if (snippetChoice instanceof HTMLSelectElement) {
  const picker = snippetChoice.closest<HTMLElement>('.snippet-language')
  if (picker) picker.hidden = false
  const show = (): void => {
    for (const block of document.querySelectorAll<HTMLElement>('.snippet[data-language]')) block.hidden = block.dataset.language !== snippetChoice.value
  }
  snippetChoice.addEventListener('change', show)
  show()
}
