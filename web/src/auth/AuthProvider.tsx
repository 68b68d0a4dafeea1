import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react'
import { LOGGED_OUT_EVENT, getJson, sendJson, setCsrfToken, type Me } from '../api.ts'

type AuthState = { state: 'checking' } | { state: 'anonymous'; expired: boolean } | { state: 'in'; me: Me }

interface Auth {
  me: Me
  /** Whether the role may take this action at all (the server also checks where). */
  may(action: string): boolean
  logout(): Promise<void>
  /** After a password change: reload who we are (must-change flag, CSRF token). */
  refresh(): Promise<void>
}

const Ctx = createContext<Auth | null>(null)

export function useAuth(): Auth {
  const a = useContext(Ctx)
  if (!a) throw new Error('useAuth outside AuthProvider')
  return a
}

/**
 * Asks the server who is logged in; shows `login` until someone is, and
 * `children` after. A 401 from any later request (session expired, account
 * disabled) brings the login back, saying why.
 */
export function AuthProvider({ login, children }: { login: (onIn: (me: Me) => void, expired: boolean) => ReactNode; children: (me: Me) => ReactNode }) {
  const [auth, setAuth] = useState<AuthState>({ state: 'checking' })

  const signIn = useCallback((me: Me) => {
    setCsrfToken(me.csrfToken)
    setAuth({ state: 'in', me })
  }, [])

  const refresh = useCallback(async () => {
    const me = await getJson<Me | { user: null }>('/api/auth/me')
    if (me.user) signIn(me as Me)
    else setAuth({ state: 'anonymous', expired: false })
  }, [signIn])

  useEffect(() => {
    refresh().catch(() => setAuth({ state: 'anonymous', expired: false }))
    const out = () => setAuth((a) => (a.state === 'in' ? { state: 'anonymous', expired: true } : a))
    window.addEventListener(LOGGED_OUT_EVENT, out)
    return () => window.removeEventListener(LOGGED_OUT_EVENT, out)
  }, [refresh])

  const logout = useCallback(async () => {
    await sendJson('POST', '/api/auth/logout', {}).catch(() => {})
    setAuth({ state: 'anonymous', expired: false })
  }, [])

  if (auth.state === 'checking') return null
  if (auth.state === 'anonymous') return <>{login(signIn, auth.expired)}</>
  const value: Auth = { me: auth.me, may: (a) => auth.me.may.includes(a), logout, refresh }
  return <Ctx.Provider value={value}>{children(auth.me)}</Ctx.Provider>
}
