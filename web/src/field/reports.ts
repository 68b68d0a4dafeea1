import { defaultRules, type Level, type State, type Urgency } from '../../../core/rules/escalation.ts'
import { call, field, onSynced } from './state.ts'
import { kv } from './store.ts'

/**
 * The 上报 tab's data: the problem types (GET /api/reports/types) and the
 * worker's own reports with their state (GET /api/reports?mine=true), both
 * kept on the phone so the tab opens with no signal, refreshed when there is.
 */
export interface ReportType { code: string; zh: string; en: string }
export interface MyReport {
  id: number; type: string; urgency: Urgency; state: State; level: Level; overdue: boolean
  reportedAt: string; receivedAt: string; note: string; gridName: string | null; unitName: string | null
  /** Its photos' ids (thumbnails); absent from older servers. */
  photos?: number[]
}

export interface ReportsState {
  types: ReportType[]
  /** Null: never fetched on this phone. */
  mine: MyReport[] | null
  mineAt: number | null
}

// Until the server has been asked once: the flood-season defaults the server starts with.
let state: ReportsState = { types: defaultRules.types.map(({ code, zh, en }) => ({ code, zh, en })), mine: null, mineAt: null }
const listeners = new Set<() => void>()
const set = (patch: Partial<ReportsState>) => {
  state = { ...state, ...patch }
  for (const l of listeners) l()
}
export const reports = {
  get: () => state,
  subscribe(l: () => void) {
    listeners.add(l)
    return () => void listeners.delete(l)
  },
}

const mineKey = () => `myReports:${field.get().me?.user.id ?? 0}`
/** What the phone kept, read once per person (another worker on the same phone has their own list). */
let loaded: { key: string; done: Promise<void> } | null = null
/** Whether the tab is on screen: only then does every contact refresh the list (else only a report just sent). */
let watching = false

function loadKept(): Promise<void> {
  const key = mineKey()
  if (loaded?.key !== key) {
    loaded = {
      key,
      done: (async () => {
        const [types, kept] = await Promise.all([kv.get<ReportType[]>('reportTypes'), kv.get<{ mine: MyReport[]; at: number }>(key)])
        set({ ...(types?.length ? { types } : {}), mine: kept?.mine ?? null, mineAt: kept?.at ?? null })
      })(),
    }
  }
  return loaded.done
}

let refreshing: Promise<void> | null = null

/** From the server, when there is a signal; with none, what the phone kept stays. */
export function refreshReports(): Promise<void> {
  refreshing ??= (async () => {
    await loadKept()
    if (!field.get().me || !navigator.onLine) return
    try {
      const [t, m] = await Promise.all([
        call<{ types: ReportType[] }>('GET', '/api/reports/types'),
        call<{ reports: MyReport[] }>('GET', '/api/reports?mine=true&state=all&limit=50'),
      ])
      const at = Date.now()
      await Promise.all([kv.set('reportTypes', t.types), kv.set(mineKey(), { mine: m.reports, at })])
      set({ types: t.types, mine: m.reports, mineAt: at })
    } catch {
      // No signal after all, or the session is gone (state.ts says so): keep what the phone has.
    }
  })().finally(() => (refreshing = null))
  return refreshing
}

/** The tab is open: show what the phone has, then ask the server. */
export function watchReports(): () => void {
  watching = true
  void refreshReports()
  return () => void (watching = false)
}

onSynced((applied) => {
  if (watching || applied.includes('report')) void refreshReports()
})

/** The words of a type code (a type removed from the list since: its code, not a blank). */
export const typeName = (types: ReportType[], code: string, lang: 'zh' | 'en') => types.find((t) => t.code === code)?.[lang] ?? code
