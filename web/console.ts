/**
 * The developer console's only script: copy buttons and delete confirmations. The pages work
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

// Generate page: the API key grant has no client secret; say what will be shown.
const grant = document.querySelector<HTMLSelectElement>('select[name="grant"]')
const hint = document.getElementById('grant-hint')
if (grant && hint) {
  const hints: Record<string, string> = {
    client_credentials: 'Server-to-server: a Client ID and Client Secret for POST /oauth/token.',
    password: 'Users sign in with username and password through your app (IdentityServer-style /connect/token).',
    api_key: 'One API key (KEYID:SECRET) exchanged for tokens at /v2/oauth/request-tokens.',
  }
  const update = (): void => {
    hint.textContent = hints[grant.value] ?? ''
  }
  grant.addEventListener('change', update)
  update()
}
