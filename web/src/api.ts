/** The API's JSON, typed as api/README.md describes it, and one fetch helper with readable errors. */
import type { Role } from '../../core/policy.ts'
import type { AdminLevel } from '../../core/units.ts'

export { CITY_CODE } from '../../core/units.ts'
export type Level = AdminLevel
export type Risk = 'red' | 'yellow' | 'green'
export type BBox = [number, number, number, number]

export interface UnitStats {
  households: number; red: number; yellow: number; green: number; people: number; vulnerable: number; exposed: number
  hazardSites: number; threatenedPeople: number; shelters: number; shelterCapacity: number; gridWorkers: number; grids: number
}
export interface UnitRef { code: string; name: string; level: Level }
export interface UnitSummary extends UnitRef {
  parent: UnitRef | null
  bbox: BBox
  center: [number, number]
  outline: GeoJSON.Geometry | null
  stats: UnitStats
  children: (UnitRef & { households: number; red: number; yellow: number; green: number; people: number })[]
}

interface Named { code: string; name: string }
export interface Worker { name: string; phone: string; role: string }
export interface HouseholdRecord {
  id: number; code: string; householder: string; phone: string | null; members: number; elderly_alone: number
  left_behind_children: number; disabled: number; vulnerable: number; risk_level: Risk; flood_exposed: boolean
  measures: string | null; last_visit_at: string | null; visit_interval_days: number; overdue: boolean; version: number; masked: boolean
  /** What this user may do to this household (role and scope), as the server will check it. */
  can: string[]
  lon: number; lat: number; cadre: Worker | null; grid: Named & { id: number }; micro_grid: (Named & { id: number }) | null
  village: Named; township: Named; county: Named; hazards: (Named & { id: number; type: string })[]
  /** Photos from the field app, newest first (GET /api/field/photos/{id}/thumb and /{id}); absent from older servers. */
  photos?: { id: number; at: string; kind: 'visit' | 'check' }[]
}
export interface GridRecord {
  id: number; code: string; name: string; kind: 'basic' | 'micro'; version: number; parent: (Named & { id: number }) | null
  village: Named; bbox: BBox; outline: GeoJSON.Geometry
  stats: { households: number; red: number; yellow: number; green: number; people: number; vulnerable: number; exposed: number }
  workers: Worker[]
  can: string[]
}
export interface HazardRecord {
  id: number; code: string; name: string; admin_code: string; type: string; scale: string; threat_object: string | null
  threatened_households: number; threatened_people: number; threatened_property: number | null; danger_level: string
  countermeasure: string | null; monitoring_method: string | null; warning_signal: string | null; trigger_factor: string | null
  critical_rain_1h: number | null; critical_rain_24h: number | null; status: 'active' | 'proposed' | 'cancelled'; lon: number; lat: number
  monitor: { name: string; phone: string } | null; village: Named
  routes: { id: number; length_m: number; shelter: { id: number; name: string; capacity: number } }[]
}
export interface ShelterRecord {
  id: number; code: string; name: string; kind: string; capacity: number; certified_safe: boolean
  manager: string | null; manager_phone: string | null; lon: number; lat: number; village: Named
}
export interface ClientConfig {
  basemap: ({ tiles: string[] } | { url: string }) & { attribution: string; tileSize: number } | null
}

export type RecordKind = 'household' | 'grid' | 'hazard' | 'shelter'
export interface RecordTypes { household: HouseholdRecord; grid: GridRecord; hazard: HazardRecord; shelter: ShelterRecord }
export const recordPath: Record<RecordKind, string> = { household: 'households', grid: 'grids', hazard: 'hazards', shelter: 'shelters' }

/** An error to show the user: the server's own zh/en message when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly zh: string,
    readonly en: string,
    readonly network = false,
    readonly code?: string,
    /** The whole error body, for answers that carry more than a message (an import's `errors` by row). */
    readonly body?: unknown,
  ) {
    super(en)
  }
}

/** Fired when the server says the session is gone (expired, logged out elsewhere, account disabled). */
export const LOGGED_OUT_EVENT = 'gridwatch:logged-out'

// The session's CSRF token, sent with every write (set by the auth provider).
let csrfToken = ''
export const setCsrfToken = (token: string) => void (csrfToken = token)

async function request<T>(path: string, init: RequestInit): Promise<T> {
  let res: Response
  try {
    res = await fetch(path, init)
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    throw new ApiError(0, String((err as Error).message), String((err as Error).message), true)
  }
  if (res.ok) return (await res.json()) as T
  if (res.status === 401 && !path.startsWith('/api/auth/')) window.dispatchEvent(new Event(LOGGED_OUT_EVENT))
  throw await apiError(res)
}

/** The error of a failed response: the server's own zh/en message when it sent one. */
export async function apiError(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; zh?: string; en?: string } } | null
  return new ApiError(res.status, body?.error?.zh ?? `HTTP ${res.status}`, body?.error?.en ?? `HTTP ${res.status}`, false, body?.error?.code, body)
}

export function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return request<T>(path, { signal, headers: { accept: 'application/json' } })
}

/** A write: JSON body, the CSRF token, the server's message on failure. */
export function sendJson<T>(method: 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body: unknown): Promise<T> {
  return request<T>(path, {
    method,
    headers: { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': csrfToken },
    body: JSON.stringify(body),
  })
}

export type { Role } from '../../core/policy.ts'
export interface Me {
  user: { id: number; username: string; displayName: string; role: Role; unitCode: string; mustChangePassword: boolean }
  csrfToken: string
  /** The actions the role may take (core/policy.ts); where is checked per object by the server. */
  may: string[]
  /** The user's own area (the 12-digit admin code of their unit) and its extent; null when the code names no unit. */
  home?: { code: string; bbox: BBox } | null
}
export interface AuditEntry {
  id: number; at: string; actor: string; actorName: string | null; actorRole: string | null; action: string
  before: Record<string, unknown> | null; after: Record<string, unknown> | null
}
export interface Account {
  id: number; username: string; displayName: string; role: Role; unitCode: string; disabled: boolean
  mustChangePassword: boolean; createdAt: string; version: number
}
/** One of the user's personal access tokens (api/auth/tokens.ts): never the secret, but at creation. */
export interface AccessToken {
  id: number; name: string; createdAt: string; lastUsedAt: string | null; expiresAt: string | null
}
/** A login throttle (api/auth/throttle.ts): who waits, from where, until when. */
export interface Throttle {
  id: number; scope: 'account_address' | 'account_device' | 'address' | 'account'
  username: string | null; address: string | null; failures: number
  blockedUntil: string | null; lastFailureAt: string; forgottenAt: string
}
