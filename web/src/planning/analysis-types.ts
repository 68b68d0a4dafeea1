/** The analyses' shapes as GET /api/analysis and the analysis jobs answer them (api/README.md). */
export interface Field { name: string; zh: string; type: string }
export interface ParamSchema { type?: string; enum?: string[]; default?: unknown; minimum?: number; maximum?: number }
export interface AnalysisInfo { id: string; zh: string; en: string; fields: Field[]; totalsZh: Record<string, string>; params: { properties?: Record<string, ParamSchema> } }
export interface AnalysisResult {
  analysis: string; zh: string; en: string; rows: Record<string, unknown>[]; truncated: boolean; columns: Field[]
  totals: Record<string, number>; totalsZh: Record<string, string>; geojson: GeoJSON.FeatureCollection
}
export interface AnalysisJob { id: string; stage: 'queued' | 'running' | 'done' | 'failed'; position: number | null; done: number; total: number; percent: number; error: string | null; result?: AnalysisResult | null }

/** The parameters given a value: an empty box means the analysis's default. */
export const filledParams = (params: Record<string, string>) => Object.fromEntries(Object.entries(params).filter(([, v]) => v !== ''))
