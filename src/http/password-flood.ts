import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AbuseGuard } from '../core/abuse/abuse-guard.js'
import { PAGE_HEADERS, page, html } from './routes/console/html.js'

const BUSY_PAGE = page({ title: 'Try again in a moment', area: 'sign in', body: html`<div class="card narrow"><h1>Try again in a moment</h1><p role="alert">Too many sign-ins from your network are waiting. Please go back and try again in a moment.</p></div>` })

/**
 * An `onRequest` hook for the sign-in form posts: when this address already has as many password
 * checks waiting as it may (PasswordHashQueue), the post is refused with 503 and Retry-After
 * before its body is read, a cookie checked or a page rendered — a flood's surplus costs the
 * server next to nothing, so a person's sign-in from elsewhere is not kept waiting behind it.
 * Another address is never refused for this one's flood.
 */
export function refuseWhenPasswordChecksFull(guard: AbuseGuard): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    if (!guard.passwordChecksFull(request.ip)) return
    await reply.code(503).headers({ ...PAGE_HEADERS, 'retry-after': '1' }).send(BUSY_PAGE)
  }
}
