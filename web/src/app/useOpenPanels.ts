import { useState } from 'react'
import type { UrlState } from '../urlState.ts'

/**
 * Which of the command map's panels are open, and what is open in them: the
 * transfer order and the problem report (both kept in the address, so a shared
 * link opens the panel on them), the 三查 and planning panels.
 */
export function useOpenPanels(initial: UrlState) {
  const [checksOpen, setChecksOpen] = useState(false)
  const [planningOpen, setPlanningOpen] = useState(false)
  const [evacOpen, setEvacOpen] = useState(initial.order !== null)
  const [order, setOrder] = useState<number | null>(initial.order)
  // Problem reports (问题上报): the panel and the report open in it.
  const [reportsOpen, setReportsOpen] = useState(initial.report !== null && initial.report !== undefined)
  const [reportId, setReportId] = useState<number | null>(initial.report ?? null)
  return {
    checksOpen, setChecksOpen, planningOpen, setPlanningOpen,
    evacOpen, setEvacOpen, order, setOrder,
    reportsOpen, setReportsOpen, reportId, setReportId,
  }
}
