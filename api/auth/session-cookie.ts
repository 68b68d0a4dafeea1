/**
 * The session cookie lives exactly as long as the session would sit idle
 * (12 h), and is sent again whenever the server moves the session's end on,
 * so an open command-room screen stays logged in while a forgotten browser
 * drops the cookie when the server drops the session, not 30 days later.
 */
import type { Context } from 'hono'
import { deleteCookie, setCookie } from 'hono/cookie'
import { clientUsesHttps, type ProxySettings } from '../proxy.ts'
import { SESSION_COOKIE, SESSION_IDLE_MS } from './sessions.ts'

export function setSessionCookie(c: Context, proxy: ProxySettings, token: string) {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true, sameSite: 'Lax', path: '/', secure: clientUsesHttps(c, proxy), maxAge: SESSION_IDLE_MS / 1000,
  })
}

export const clearSessionCookie = (c: Context) => deleteCookie(c, SESSION_COOKIE, { path: '/' })
