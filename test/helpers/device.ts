import assert from 'node:assert/strict'
import { CookieBrowser, inputValue, type PageAnswer } from './browser-session.js'

/**
 * A person on the device verification pages (RFC 8628 §3.3), without a browser: types the code
 * at /device, signs in, and allows or denies. Answers the decision's 303 to /device/done.
 */
export async function approveDevice(base: string, userCode: string, user: { username: string; password: string }, decision: 'allow' | 'deny' = 'allow', browser = new CookieBrowser(base)): Promise<PageAnswer> {
  const form = await browser.get('/device')
  let page = await browser.post('/device', { _csrf: inputValue(form.text, '_csrf'), user_code: userCode })
  if (page.text.includes('action="/device/signin"')) {
    page = await browser.post('/device/signin', { _csrf: inputValue(page.text, '_csrf'), user_code: inputValue(page.text, 'user_code'), username: user.username, password: user.password })
  }
  assert.match(page.text, /action="\/device\/decision"/, `no confirmation page: ${page.status} ${page.text}`)
  const done = await browser.post('/device/decision', { _csrf: inputValue(page.text, '_csrf'), user_code: inputValue(page.text, 'user_code'), decision })
  assert.equal(done.status, 303, done.text)
  return done
}
