/**
 * Shelter assignment for a transfer order: the planned shelter (the route
 * from the household's hazard site) when it has room, else the nearest
 * certified shelter with room, else none — a shortfall that is reported, not
 * hidden. Greedy in priority order (vulnerable people first, then those a
 * hazard site threatens), so scarce places go to those who need them most.
 */

export interface Candidate {
  id: number
  members: number
  vulnerable: number
  gridId: number
  hazardId: number | null
  /** The shelter at the end of the household's planned route, when it is certified safe. */
  planned: number | null
}

export interface Assignment {
  shelterId: number | null
  /** 'planned' | 'nearest' (the planned one was full, missing or not certified) | 'none' */
  how: 'planned' | 'nearest' | 'none'
}

/**
 * `nearby`: per grid, certified shelters in order of distance (within reach);
 * `room`: places left per shelter (capacity less the people other open
 * transfers already send there). `room` is updated in place.
 */
export function assignShelters(households: Candidate[], nearby: Map<number, number[]>, room: Map<number, number>): Map<number, Assignment> {
  // Four priority buckets, each in id order (a county is 100,000s of households: no comparator chain).
  const buckets: Candidate[][] = [[], [], [], []]
  for (const h of households) buckets[(h.vulnerable > 0 ? 0 : 2) + (h.hazardId != null ? 0 : 1)].push(h)
  // One answer object per shelter and way, shared: not 300,000 new ones for a county.
  const none: Assignment = Object.freeze({ shelterId: null, how: 'none' })
  const answers = { planned: new Map<number, Assignment>(), nearest: new Map<number, Assignment>() }
  const answer = (shelterId: number, how: 'planned' | 'nearest') => {
    let a = answers[how].get(shelterId)
    if (!a) answers[how].set(shelterId, (a = Object.freeze({ shelterId, how })))
    return a
  }
  const out = new Map<number, Assignment>()
  for (const bucket of buckets) {
    bucket.sort((x, y) => x.id - y.id)
    for (const h of bucket) {
      if (h.planned != null && (room.get(h.planned) ?? 0) >= h.members) {
        room.set(h.planned, room.get(h.planned)! - h.members)
        out.set(h.id, answer(h.planned, 'planned'))
        continue
      }
      const found = (nearby.get(h.gridId) ?? []).find((s) => (room.get(s) ?? 0) >= h.members)
      if (found != null) {
        room.set(found, room.get(found)! - h.members)
        out.set(h.id, answer(found, 'nearest'))
      } else out.set(h.id, none)
    }
  }
  return out
}

export interface Place {
  id: number
  lon: number
  lat: number
}

const EARTH_M = 6_371_008.8
const RAD = Math.PI / 180

/** Great-circle distance in metres (haversine, mean Earth radius). */
export function distanceM(a: Place, b: Place): number {
  const dLat = (b.lat - a.lat) * RAD
  const dLon = (b.lon - a.lon) * RAD
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * RAD) * Math.cos(b.lat * RAD) * Math.sin(dLon / 2) ** 2
  return 2 * EARTH_M * Math.asin(Math.min(1, Math.sqrt(h)))
}

/**
 * Per grid (its label point), the `k` nearest shelters within `reachM`, nearest
 * first. Done here rather than by one KNN query a grid: a county is 5,000 grids
 * against a few hundred shelters, and this is a few milliseconds of arithmetic
 * where the queries took over a second. Shelters are bucketed on a lattice of
 * cells at least `reachM` wide, so each grid looks at its own cell and the
 * eight around it only.
 */
export function nearestShelters(grids: Place[], shelters: Place[], reachM: number, k: number): Map<number, number[]> {
  // Cell size in degrees: reach in latitude, and in longitude at the highest latitude present.
  const maxLat = Math.max(0, ...grids.map((g) => Math.abs(g.lat)), ...shelters.map((s) => Math.abs(s.lat)))
  const dLat = reachM / (EARTH_M * RAD)
  const dLon = dLat / Math.max(0.01, Math.cos(Math.min(89, maxLat + dLat) * RAD))
  const key = (cx: number, cy: number) => `${cx}/${cy}`
  const cells = new Map<string, Place[]>()
  for (const s of shelters) {
    const k0 = key(Math.floor(s.lon / dLon), Math.floor(s.lat / dLat))
    const list = cells.get(k0)
    if (list) list.push(s)
    else cells.set(k0, [s])
  }
  const out = new Map<number, number[]>()
  for (const g of grids) {
    const cx = Math.floor(g.lon / dLon)
    const cy = Math.floor(g.lat / dLat)
    const found: { id: number; d: number }[] = []
    for (let x = cx - 1; x <= cx + 1; x++) {
      for (let y = cy - 1; y <= cy + 1; y++) {
        for (const s of cells.get(key(x, y)) ?? []) {
          const d = distanceM(g, s)
          if (d <= reachM) found.push({ id: s.id, d })
        }
      }
    }
    if (found.length) out.set(g.id, found.sort((a, b) => a.d - b.d || a.id - b.id).slice(0, k).map((s) => s.id))
  }
  return out
}
