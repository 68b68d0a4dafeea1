import type { Database } from '../../db/connect.ts'
import { log } from '../../core/log.ts'
import type { HouseholdCells } from './cells.ts'

/**
 * Change kinds after which an area's binned households may be wrong: households whose place, grid, colour or
 * people changed, or were added or removed (migration 021; not 'household', which every update sends, a visit
 * too), and hazard sites (migration 013: whom they threaten).
 */
const KINDS = new Set(['household_counts', 'hazard'])
/** Even with no change notice, binned households are read again after this: a notice lost on a reconnect is not forever. */
const MAX_AGE_MS = 10 * 60_000
const MAX_ENTRIES = 32
/** Degrees around an area's households within which a change counts: a hazard site threatens households near it, not under it. */
const MARGIN = 0.05

interface Entry { at: number; cells: HouseholdCells }

/**
 * Households binned per (area, resolution), kept until what is counted of
 * households, or hazard sites, change. The statements that change them notify
 * `gridwatch_tiles` (the tile cache's channel) with the kind and box of each change; a notice
 * drops the entries whose households' box (plus a margin) it meets. A
 * binning that started before any notice is not kept (the generation, as in
 * tiles/cache.ts): it may have read the rows before the change.
 */
export class HexagonCache {
  private entries = new Map<string, Entry>()
  private pending = new Map<string, Promise<HouseholdCells>>()
  generation = 0

  /** Starts listening on `db` (without it, entries only age out). */
  async listen(db: Database) {
    await db.listen('gridwatch_tiles', (payload) => {
      try {
        this.invalidate(JSON.parse(payload) as [string, number, number, number, number][])
      } catch (err) {
        log.warn('hexagons: unreadable change notice, clearing', err)
        this.clear()
      }
    })
  }

  /** Drops the entries the changes ([kind, west, south, east, north]) may touch. */
  invalidate(changes: [string, number, number, number, number][]) {
    const relevant = changes.filter((c) => KINDS.has(c[0]))
    if (!relevant.length) return
    this.generation++
    for (const [key, e] of this.entries) {
      const b = e.cells.bbox
      const hit = !b || relevant.some(([, w, s, east, n]) => east >= b[0] - MARGIN && w <= b[2] + MARGIN && n >= b[1] - MARGIN && s <= b[3] + MARGIN)
      if (hit) this.entries.delete(key)
    }
  }

  clear() {
    this.generation++
    this.entries.clear()
    this.pending.clear()
  }

  /** The cached binning of `key`, or `make`'s, shared by concurrent callers. */
  async get(key: string, make: () => Promise<HouseholdCells>, now = Date.now()): Promise<HouseholdCells> {
    const e = this.entries.get(key)
    if (e && now - e.at < MAX_AGE_MS) {
      this.entries.delete(key)
      this.entries.set(key, e) // most recently used last
      return e.cells
    }
    const generation = this.generation
    const pendingKey = `${key}@${generation}`
    let p = this.pending.get(pendingKey)
    if (!p) {
      p = make().then((cells) => {
        if (generation === this.generation) {
          this.entries.set(key, { at: now, cells })
          for (const k of this.entries.keys()) {
            if (this.entries.size <= MAX_ENTRIES) break
            this.entries.delete(k)
          }
        }
        return cells
      })
      p.finally(() => this.pending.delete(pendingKey)).catch(() => {})
      this.pending.set(pendingKey, p)
    }
    return p
  }

  get size() {
    return this.entries.size
  }
}
