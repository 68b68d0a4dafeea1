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
  const out = new Map<number, Assignment>()
  for (const h of buckets.flatMap((b) => b.sort((x, y) => x.id - y.id))) {
    if (h.planned != null && (room.get(h.planned) ?? 0) >= h.members) {
      room.set(h.planned, room.get(h.planned)! - h.members)
      out.set(h.id, { shelterId: h.planned, how: 'planned' })
      continue
    }
    const found = (nearby.get(h.gridId) ?? []).find((s) => (room.get(s) ?? 0) >= h.members)
    if (found != null) {
      room.set(found, room.get(found)! - h.members)
      out.set(h.id, { shelterId: found, how: 'nearest' })
    } else out.set(h.id, { shelterId: null, how: 'none' })
  }
  return out
}
