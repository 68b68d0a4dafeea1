/** GET /api/field/today (api/field/today.ts): the grid the phone keeps. */
export type Risk = 'red' | 'yellow' | 'green'
export interface TaskItem { zh: string; en: string; done: boolean; note?: string | null; at?: string | null; byName?: string | null }
export interface Task {
  id: number; phase: 'before' | 'during' | 'after'; targetKind: 'hazard_site' | 'household' | 'grid'; targetName: string | null
  targetCode: string; dueAt: string; status: string; overdue: boolean; items: TaskItem[]; version: number
  /** Photos of its items (newest first; thumbnails at /api/field/photos/{id}/thumb). Absent in older copies. */
  photos?: { item: number; id: number }[]
}
export interface Household {
  id: number; code: string; householder: string; phone: string | null; members: number; vulnerable: number; risk: Risk
  lastVisitAt: string | null; dueAt: string; overdue: boolean; lon: number; lat: number
  /** Days between visits for its colour (the server's rule: red 1, yellow 7, green 30). */
  intervalDays: number
  /** Its visits' newest photos (at most 3). Absent in older copies. */
  photos?: number[]
}
export interface Transfer {
  orderId: number; householdId: number; status: string; people: number | null; members: number; vulnerable: number
  reason: string | null; shelterId: number | null; routeId: number | null; updatedAt: string
}
export interface Today {
  at: string
  grid: {
    id: number; code: string; name: string; village: string; township: string; outline: GeoJSON.MultiPolygon; bbox: [number, number, number, number]
    /** A point inside the grid (older copies on a phone may lack it). */
    center?: [number, number]
  }
  /** A cadre's account (包保责任人): the households are those they answer for. Absent in copies from older servers. */
  cadre?: { id: number; name: string } | null
  tasks: Task[]
  households: Household[]
  orders: { id: number; title: string; stage: string; deadline: string; issuedAt: string }[]
  transfer: Transfer[]
  hazards: { id: number; name: string; type: string; dangerLevel: string; lon: number; lat: number }[]
  routes: { id: number; hazardId: number; shelterId: number; lengthM: number; line: GeoJSON.LineString }[]
  shelters: { id: number; name: string; kind: string; capacity: number; certified: boolean; manager: string | null; managerPhone: string | null; lon: number; lat: number }[]
}
export interface Me {
  user: { id: number; username: string; displayName: string; role: string; unitCode: string; mustChangePassword: boolean }
  csrfToken: string
}
