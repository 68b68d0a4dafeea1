import { useState } from 'react'
import { getJson, sendJson, type BBox } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'
import type { LayerGroup } from '../map/style.ts'
import { save } from './files.tsx'
import { Status, useSaid } from './said.tsx'

interface Props {
  unitCode: string
  /** The map's current view and the layer groups shown: what a print prints. */
  view: BBox | null
  visible: Record<LayerGroup, boolean>
  /** The analysis shown on the map, printed with it. */
  analysis: { name: string; params: Record<string, string> } | undefined
}

/** The planning panel's print of the map's view (a job on the server, polled), as PDF or PNG. */
export function PrintSection({ unitCode, view, visible, analysis }: Props) {
  const { t, m, lang } = useI18n()
  const { said, say, fail } = useSaid<'print'>()
  const [printOpts, setPrintOpts] = useState({ format: 'pdf', size: 'a4' })

  async function print() {
    say('print', t('planning.printing', { percent: 0 }))
    try {
      let job = await sendJson<{ id: string; stage: string; percent: number; position: number | null; error: string | null }>('POST', '/api/print', {
        unit: unitCode, format: printOpts.format, size: printOpts.size, lang,
        bbox: view ?? undefined, layers: (Object.keys(visible) as LayerGroup[]).filter((g) => visible[g]),
        analysis,
      })
      while (job.stage !== 'done' && job.stage !== 'failed') {
        say('print', job.position ? t('planning.printQueued', { position: job.position }) : t('planning.printing', { percent: job.percent }))
        await new Promise((r) => setTimeout(r, 1000))
        job = await getJson(`/api/print/${job.id}`)
      }
      if (job.stage === 'failed') throw new Error(job.error ?? 'print failed')
      const f = await fetch(`/api/print/${job.id}/file`)
      save(await f.blob(), `map-${unitCode}.${printOpts.format}`)
      say('print', t('planning.printed'))
    } catch (e) { fail('print')(e) }
  }

  return (
    <div data-testid="planning-print-section">
      <h3>{t('planning.print')}</h3>
      <p className="small">{t('planning.printView')}</p>
      <div className="row">
        <select value={printOpts.format} onChange={(e) => setPrintOpts({ ...printOpts, format: e.target.value })}><option value="pdf">{m.planning.formats.pdf}</option><option value="png">{m.planning.formats.png}</option></select>
        <select value={printOpts.size} onChange={(e) => setPrintOpts({ ...printOpts, size: e.target.value })}><option value="a4">A4</option><option value="a3">A3</option></select>
        <button data-testid="planning-print" onClick={() => void print()}>{t('planning.printButton')}</button>
      </div>
      <Status said={said('print')} testid="planning-print-status" />
    </div>
  )
}
