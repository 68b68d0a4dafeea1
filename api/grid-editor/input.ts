import { z } from 'zod'

/**
 * The proposed changes a client may send, checked at the edge. GeoJSON shape
 * is checked here (zod); geometric validity (self-intersection, inside the
 * village) needs PostGIS and is checked in ./check.ts.
 */
const position = z.tuple([z.number().finite().min(-180).max(180), z.number().finite().min(-90).max(90)]).rest(z.number().finite())
const ring = z
  .array(position)
  .min(4)
  .refine((r) => r[0][0] === r[r.length - 1][0] && r[0][1] === r[r.length - 1][1], 'ring not closed (first position ≠ last)')
export const polygon = z.object({ type: z.literal('Polygon'), coordinates: z.array(ring).min(1).max(50) }).strict()
export const multiPolygon = z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(z.array(ring).min(1)).min(1).max(50) }).strict()
export const areal = z.union([polygon, multiPolygon])
export const lineString = z.object({ type: z.literal('LineString'), coordinates: z.array(position).min(2).max(1000) }).strict()

const basicCode = z.string().regex(/^[0-9]{15}$/, 'a basic grid code is 15 digits')
// Micro-grids (17 digits) are changed the same way, within their grid.
const gridCode = z.string().regex(/^[0-9]{15}([0-9]{2})?$/, 'a grid code is 15 digits (17 for a micro-grid)')

export const operation = z.discriminatedUnion('op', [
  z.object({ op: z.literal('reshape'), grid: gridCode, geometry: areal }).strict(),
  z.object({ op: z.literal('split'), grid: gridCode, line: lineString }).strict(),
  z.object({ op: z.literal('merge'), grids: z.array(gridCode).min(2).max(20) }).strict()
    .refine((m) => m.grids.every((g) => g.length === m.grids[0].length), 'merge grids with grids, micro-grids with micro-grids'),
  z.object({ op: z.literal('delete'), grid: gridCode }).strict(),
  z.object({ op: z.literal('add'), geometry: areal, name: z.string().trim().min(1).max(60).optional(), parent: basicCode.optional() }).strict(),
])
export type Operation = z.infer<typeof operation>
export type Areal = z.infer<typeof areal>

// A preview may carry the version the client is at (the editor sends the same body to both).
export const previewBody = z.object({ change: operation, version: z.number().int().min(0).optional() }).strict()
export const saveBody = z.object({ change: operation, version: z.number().int().min(0) }).strict()
export const restoreBody = z.object({ version: z.number().int().min(0) }).strict()
