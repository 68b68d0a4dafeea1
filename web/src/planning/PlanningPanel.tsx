/**
 * 规划分析 / Planning: run a coverage analysis for the chosen area (its
 * result drawn on the map by MapView's `analysis` layer) and export it, export
 * the raw layers of the area, print the view — each file with progress
 * against X-Feature-Count — and import ledgers with a dry-run report first.
 * Only what the role may do is offered (the server's `may`); a refusal or a
 * failure is said beside the control that caused it. Each section is its own
 * part; the analysis's state is useAnalysis, as the print prints its result.
 */
import type { BBox } from '../api.ts'
import type { LayerGroup } from '../map/style.ts'
import { useI18n } from '../i18n/index.tsx'
import { AnalysisSection } from './AnalysisSection.tsx'
import { filledParams, type AnalysisResult } from './analysis-types.ts'
import { LayersExport } from './LayersExport.tsx'
import { LedgerImportSection } from './LedgerImportSection.tsx'
import { PrintSection } from './PrintSection.tsx'
import { useAnalysis } from './useAnalysis.ts'

export type { AnalysisResult }

interface PanelProps {
  unitCode: string
  /** The chosen area's name, to say what an export holds. */
  unitName: string
  /** The map's current view and the layer groups shown: what a print prints. */
  view: BBox | null
  visible: Record<LayerGroup, boolean>
  onResult(r: AnalysisResult | null): void
  onClose(): void
}

export function PlanningPanel({ unitCode, unitName, view, visible, onResult, onClose }: PanelProps) {
  const { t } = useI18n()
  const analysis = useAnalysis(unitCode, onResult)
  const { result, params } = analysis
  return (
    <section className="panel planning" data-testid="planning-panel">
      <header>
        <h2>{t('planning.title')}</h2>
        <button className="close" aria-label={t('close')} onClick={() => { onResult(null); onClose() }}>×</button>
      </header>
      <p className="small" data-testid="planning-area">{t('planning.area', { name: unitName })}</p>
      <AnalysisSection analysis={analysis} unitCode={unitCode} />
      <LayersExport unitCode={unitCode} />
      <PrintSection unitCode={unitCode} view={view} visible={visible} analysis={result ? { name: result.analysis, params: filledParams(params) } : undefined} />
      <LedgerImportSection />
    </section>
  )
}
