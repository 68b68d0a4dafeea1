import { z } from 'zod'

/** What a transfer order is and what a request to issue one holds: read by the route, the order and the pick of households. */
export const ORDER = { zh: '转移指令', en: 'transfer order' }

const position = z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)])
const ring = z.array(position).min(4).max(5000)
const area = z.union([
  z.object({ type: z.literal('Polygon'), coordinates: z.array(ring).min(1).max(50) }).strict(),
  z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(z.array(ring).min(1).max(50)).min(1).max(50) }).strict(),
])
const code = z.string().regex(/^[0-9]{12}$/, '须为12位区划代码 / a 12-digit admin code')
const id = z.number().int().positive().max(2147483647)

export const orderBody = z
  .object({
    title: z.string().trim().min(1).max(80).optional(),
    stage: z.enum(['vulnerable', 'everyone']),
    trigger: z.object({ kind: z.enum(['warning', 'site_alert', 'forecast', 'manual']), ref: z.record(z.string(), z.unknown()).optional() }).strict(),
    sites: z.array(id).max(5000).default([]),
    /** Every active hazard site inside these admin units (what a commander means by "the sites of this township"). */
    sitesIn: z.array(code).max(200).default([]),
    grids: z.array(id).max(50000).default([]),
    units: z.array(code).max(200).default([]),
    area: area.optional(),
    /** Minutes from now, or an ISO time with offset. */
    deadline: z.union([z.number().int().min(5).max(7 * 24 * 60), z.iso.datetime({ offset: true })]).default(120),
    note: z.string().max(500).optional(),
    dryRun: z.boolean().default(false),
  })
  .strict()
  .refine((b) => b.sites.length + b.sitesIn.length + b.grids.length + b.units.length > 0 || b.area, {
    message: '须指定隐患点、网格、区域或所画范围 / name hazard sites, grids, areas or a drawn area',
  })
export type OrderBody = z.infer<typeof orderBody>

/**
 * What issueOrder takes: a request's body, or one a feature builds itself — an order started from a
 * problem report (api/reports/transfer.ts) names it as trigger 'report', which no request may claim.
 */
export type OrderInput = Omit<OrderBody, 'trigger'> & {
  trigger: OrderBody['trigger'] | { kind: 'report'; ref: { reportId: number } }
}
