import type { Household } from './types.ts'

export interface Position { lng: number; lat: number }

/** Metres between two points (equirectangular: a grid is a few km across, the error is far below a step). */
export function metresBetween(a: Position, b: Position): number {
  const k = Math.cos(((a.lat + b.lat) / 2) * Math.PI / 180)
  const dx = (b.lng - a.lng) * k * 111_320
  const dy = (b.lat - a.lat) * 110_574
  return Math.hypot(dx, dy)
}

/**
 * The order a grid worker walks to: overdue visits first; within each group the
 * nearest first when the phone knows where it is, else the one due soonest
 * (ties by code, so the list does not jump between two renders).
 */
export function visitOrder(households: readonly Household[], here: Position | null): { h: Household; metres: number | null }[] {
  return households
    .map((h) => ({ h, metres: here ? metresBetween(here, { lng: h.lon, lat: h.lat }) : null }))
    .sort((a, b) =>
      Number(b.h.overdue) - Number(a.h.overdue)
      || (a.metres !== null && b.metres !== null ? a.metres - b.metres : 0)
      || Date.parse(a.h.dueAt) - Date.parse(b.h.dueAt)
      || a.h.code.localeCompare(b.h.code))
}
