/** The sign-in session's cookie (single sign-on): path `/`, so every hosted page and the console see it. */
export const SESSION_COOKIE = 'gatehouse_session'
