import { keepGridTiles } from './keep-tiles.ts'
import { applyLocal, batches } from './local.ts'
import { kv, outbox, type Action, type Answer, type Entry, type NewAction } from './store.ts'
import type { Me, Today } from './types.ts'

/** What the screens show; changed only here, announced to subscribers. */
export interface FieldState {
  ready: boolean
  me: Me | null
  /** The server said the session is gone: log in again (the outbox waits). */
  needLogin: boolean
  today: Today | null
  /** When `today` was fetched from the server (the screen says so when it is old). */
  todayAt: number | null
  entries: Entry[]
  lastContact: number | null
  sending: boolean
  online: boolean
  grid: string | null
}

let state: FieldState = {
  ready: false, me: null, needLogin: false, today: null, todayAt: null, entries: [], lastContact: null, sending: false,
  online: navigator.onLine, grid: null,
}
const listeners = new Set<() => void>()
const set = (patch: Partial<FieldState>) => {
  state = { ...state, ...patch }
  for (const l of listeners) l()
}
export const field = {
  get: () => state,
  subscribe(l: () => void) {
    listeners.add(l)
    return () => void listeners.delete(l)
  },
}

export class HttpFailure extends Error {
  constructor(readonly status: number, readonly body: { error?: { code: string; zh: string; en: string } } | null) {
    super(`HTTP ${status}`)
  }
}

/**
 * The answers web/m/index.html asked for before the scripts came (who is logged in, the default grid): taken
 * once, by the start only — a later read (after a sync) must be a fresh one.
 */
function early(path: '/api/auth/me' | '/api/field/today'): Promise<Response> | undefined {
  const asked = (window as { __fieldEarly?: Record<string, Promise<Response>> }).__fieldEarly
  const r = asked?.[path]
  if (asked) delete asked[path]
  return r
}

export async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, asked?: Promise<Response>): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (method !== 'GET') {
    headers['content-type'] = 'application/json'
    headers['x-csrf-token'] = state.me?.csrfToken ?? ''
  }
  const r = await (asked ?? fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' }))
  if (!r.ok) throw new HttpFailure(r.status, await r.json().catch(() => null))
  return r.json() as Promise<T>
}

const touched = async () => {
  const t = Date.now()
  set({ lastContact: t, online: true })
  await kv.set('lastContact', t)
}

async function reloadEntries() {
  const mine = (await outbox.all()).filter((e) => e.userId === state.me?.user.id)
  set({ entries: mine })
  return mine
}

/** The photo thumbnails the service worker kept: the last person's, not to be shown to the next. */
const forgetPhotos = () => ('caches' in self ? caches.delete('gridwatch-field-thumbs-v1').then(() => undefined, () => undefined) : Promise.resolve())

/** What the phone had when it was last closed: the app opens on it at once, with or without a signal. */
export async function start() {
  const [me, today, todayAt, lastContact, grid] = await Promise.all([
    kv.get<Me>('me'), kv.get<Today>('today'), kv.get<number>('todayAt'), kv.get<number>('lastContact'), kv.get<string>('grid'),
  ])
  set({ me: me ?? null, today: today ?? null, todayAt: todayAt ?? null, lastContact: lastContact ?? null, grid: grid ?? null })
  await reloadEntries()
  set({ ready: true })
  addEventListener('online', () => { set({ online: true }); void flush() })
  addEventListener('offline', () => set({ online: false }))
  document.addEventListener('visibilitychange', () => { if (!document.hidden) void flush() })
  setInterval(() => void flush(), 30_000)
  if (navigator.onLine) {
    // The grid at once, beside the session check: on a slow line each round trip costs seconds.
    // Both were asked by the page itself (web/m/index.html) while this script was on its way.
    await Promise.all([checkSession(early('/api/auth/me')), state.entries.length ? null : refreshToday(early('/api/field/today'))])
    void flush()
  }
  // Not taken (something was waiting to be sent): never used later.
  delete (window as { __fieldEarly?: unknown }).__fieldEarly
}

async function checkSession(asked?: Promise<Response>) {
  try {
    const me = await call<Me | { user: null }>('GET', '/api/auth/me', undefined, asked)
    if (!me.user) return await touched().then(() => set({ needLogin: true }))
    await Promise.all([touched(), signedIn(me as Me)])
  } catch {
    // No signal: keep what the phone has.
  }
}

async function signedIn(me: Me) {
  if (state.me && state.me.user.id !== me.user.id) {
    // Another person on this phone: not the last one's grid.
    await Promise.all([kv.del('today'), kv.del('grid'), forgetPhotos()])
    set({ today: null, todayAt: null, grid: null })
  }
  // On screen first, then the phone's copy: on a slow phone each write is time before the first screen.
  set({ me, needLogin: false })
  await kv.set('me', me)
  await reloadEntries()
}

export async function login(username: string, password: string): Promise<void> {
  const me = await call<Me>('POST', '/api/auth/login', { username, password })
  await touched()
  await signedIn(me)
  await flush()
}

export async function logout() {
  await call('POST', '/api/auth/logout', {}).catch(() => {})
  await Promise.all([kv.del('me'), forgetPhotos()])
  set({ me: null, needLogin: true })
}

export async function chooseGrid(code: string) {
  await kv.set('grid', code)
  set({ grid: code })
  await refreshToday()
}

export async function listGrids(): Promise<{ code: string; name: string; village: string }[]> {
  return (await call<{ grids: { code: string; name: string; village: string }[] }>('GET', '/api/field/grids')).grids
}

/** The grid from the server, when nothing of ours is waiting (else the screen keeps what the phone did). */
export async function refreshToday(asked?: Promise<Response>) {
  if (state.entries.some((e) => e.state === 'waiting')) return
  // No grid chosen: the server's default, the worker's own grid (before the session is even known).
  const grid = state.grid ?? (state.me && state.me.user.unitCode.length === 15 ? state.me.user.unitCode : null)
  if (!grid && state.me) return
  try {
    // The page's early answer is the server's default grid (the session's own): kept only if it is the grid wanted here.
    // (A township's page has no default grid: its refusal counts only when no grid is chosen either.)
    let today = asked ? await call<Today>('GET', '/api/field/today', undefined, asked).catch((e: unknown) => { if (grid) return null; throw e }) : null
    if (today && grid && today.grid.code !== grid) today = null
    today ??= await call<Today>('GET', `/api/field/today${grid ? `?grid=${grid}` : ''}`)
    const at = Date.now()
    set({ today, todayAt: at })
    await Promise.all([touched(), kv.set('today', today), kv.set('todayAt', at)])
    void keepGridTiles(today.grid.code, today.grid.bbox).catch(() => {})
  } catch (e) {
    if (e instanceof HttpFailure && e.status === 401 && state.me) set({ needLogin: true })
  }
}

/** Something done on the phone: kept in the outbox, shown at once, sent when there is a signal. */
export async function act(action: NewAction) {
  if (!state.me) return
  const full = { ...action, id: crypto.randomUUID(), at: action.at ?? new Date().toISOString() } as Action
  await outbox.add({ userId: state.me.user.id, action: full, state: 'waiting' })
  if (state.today) {
    const today = applyLocal(state.today, full, state.me.user.displayName)
    await kv.set('today', today)
    set({ today })
  }
  await reloadEntries()
  void flush()
}

/**
 * Told after each contact through the outbox, with the kinds of the actions
 * just applied (none: nothing was waiting): the reports list refreshes itself
 * this way without this module knowing it.
 */
const syncedHooks = new Set<(applied: Action['kind'][]) => void>()
export function onSynced(f: (applied: Action['kind'][]) => void) {
  syncedHooks.add(f)
  return () => void syncedHooks.delete(f)
}

let flushing: Promise<void> | null = null

/** Sends the waiting actions in order, a batch at a time; stops at the first failure and tries again later. */
export function flush(): Promise<void> {
  if (flushing) return flushing
  flushing = sendWaiting().finally(() => (flushing = null))
  return flushing
}

async function sendWaiting(): Promise<void> {
  const appliedKinds: Action['kind'][] = []
  let inTouch = false
  try {
    if (!state.me || state.needLogin || !navigator.onLine) return
    const waiting = (await reloadEntries()).filter((e) => e.state === 'waiting')
    inTouch = true
    if (!waiting.length) return void (await refreshToday())
    set({ sending: true })
    for (const batch of batches(waiting)) {
      let results: Answer[]
      try {
        results = (await call<{ results: Answer[] }>('POST', '/api/field/sync', { actions: batch.map((e) => e.action) })).results
      } catch (e) {
        if (!(e instanceof HttpFailure)) return set({ online: navigator.onLine }) // no signal: later
        await touched()
        if (e.status === 401) return set({ needLogin: true })
        if (e.status >= 500 || e.status === 429 || e.status === 503) return
        // The server refuses the batch as such (never for what the worker did): shown, not sent again.
        const error = e.body?.error ?? { code: 'http', zh: `HTTP ${e.status}`, en: `HTTP ${e.status}` }
        for (const en of batch) await outbox.put({ ...en, state: 'rejected', answer: { id: en.action.id, kind: en.action.kind, outcome: 'rejected', doneAt: en.action.at, receivedAt: new Date().toISOString(), status: e.status, error } })
        continue
      }
      await touched()
      const byId = new Map(results.map((r) => [r.id, r]))
      const applied: number[] = []
      for (const en of batch) {
        const a = byId.get(en.action.id)
        if (!a) continue
        if (a.outcome === 'applied') {
          applied.push(en.seq!)
          appliedKinds.push(en.action.kind)
        } else await outbox.put({ ...en, state: a.outcome, answer: a })
      }
      await outbox.remove(applied)
      await reloadEntries()
    }
  } finally {
    set({ sending: false })
    if (inTouch) for (const f of syncedHooks) f(appliedKinds)
  }
  if (!state.entries.some((e) => e.state === 'waiting')) await refreshToday()
}

/** A conflict or refusal the worker has read: dropped from the outbox, the grid taken from the server again. */
export async function resolve(entry: Entry, redo?: NewAction) {
  await outbox.remove([entry.seq!])
  await reloadEntries()
  if (redo) await act(redo)
  else await refreshToday()
}
