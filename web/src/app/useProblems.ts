import { useCallback, useState } from 'react'
import type { Problem } from '../panels/ErrorBanner.tsx'

/**
 * The command map's problems banner: what is wrong now, one entry per source
 * (the feed, the config, the map's tiles, the chosen area, …). `report` puts a
 * source's problem up (replacing its earlier one), `clear` takes it down once
 * the source works again. Both are stable, for effects to depend on.
 */
export function useProblems() {
  const [problems, setProblems] = useState<Problem[]>([])
  const report = useCallback((p: Problem) => setProblems((ps) => [...ps.filter((x) => x.id !== p.id), p]), [])
  const clear = useCallback((id: string) => setProblems((ps) => (ps.some((x) => x.id === id) ? ps.filter((x) => x.id !== id) : ps)), [])
  /** A problem added beside the others, for events that each stay on the banner (an alarm per report). */
  const add = useCallback((p: Problem) => setProblems((ps) => [...ps, p]), [])
  return { problems, report, clear, add }
}
