import { useState } from 'react'
import { getJson, sendJson } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'
import { useApi } from '../useApi.ts'
import { filledParams, type AnalysisInfo, type AnalysisJob, type AnalysisResult } from './analysis-types.ts'
import { useSaid } from './said.tsx'

/**
 * The analysis chosen for an area, its parameters, its run (a job on the
 * server, polled) and its result, handed to `onResult` for the map's layer.
 * `said('run')` tells the run, `said('result')` the result's export.
 */
export function useAnalysis(unitCode: string, onResult: (r: AnalysisResult | null) => void) {
  const { t } = useI18n()
  const list = useApi<AnalysisInfo[]>('/api/analysis')
  const [name, setName] = useState('worker_load')
  const [params, setParams] = useState<Record<string, string>>({})
  const [result, setResult] = useState<AnalysisResult | null>(null)
  const { said, say, fail } = useSaid<'run' | 'result'>()

  const info = list.state === 'ok' ? list.data.find((a) => a.id === name) : undefined
  const query = () => new URLSearchParams({ unit: unitCode, ...filledParams(params) })

  /** Another analysis: its own parameters, and no result (on the map either) until it is run. */
  const choose = (next: string) => {
    setName(next)
    setParams({})
    setResult(null)
    onResult(null)
    say('run', null)
    say('result', null)
  }
  const setParam = (k: string, v: string) => setParams({ ...params, [k]: v })

  async function run() {
    say('run', t('planning.running'))
    try {
      // A job: a city or county is worked out part by part (counties, townships), with the count of parts done shown.
      let job = await sendJson<AnalysisJob>('POST', `/api/analysis/${name}/jobs?${query()}`, {})
      while (job.stage === 'queued' || job.stage === 'running') {
        // Jobs wait their turn on the server: its place in the line, then its parts.
        if (job.position) say('run', t('planning.queued', { position: job.position }))
        else if (job.total > 1) say('run', t('planning.runningParts', { done: job.done, total: job.total }))
        await new Promise((res) => setTimeout(res, 500))
        job = await getJson<AnalysisJob>(`/api/analysis/jobs/${job.id}`)
      }
      if (job.stage === 'failed' || !job.result) throw new Error(job.error ?? 'analysis failed')
      const r = job.result
      setResult(r)
      onResult(r)
      say('run', null)
    } catch (e) { fail('run')(e) }
  }

  return { list, name, info, params, result, query, choose, setParam, run, said, say, fail }
}

export type Analysis = ReturnType<typeof useAnalysis>
