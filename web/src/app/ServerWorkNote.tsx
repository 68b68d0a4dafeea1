import { useEffect, useState } from 'react'
import { useI18n } from '../i18n/index.tsx'

/**
 * While the first start of the demo still writes the July storm's history behind
 * a map that already serves (/api/ready says stage 'background'), the 三查 and
 * transfer figures move by themselves: say so, so that nobody reads them as a
 * live storm. Asks every few seconds until the server says it is done.
 */
export function ServerWorkNote({ everyMs = 3000 }: { everyMs?: number }) {
  const { m } = useI18n()
  const [busy, setBusy] = useState(false)
  useEffect(() => {
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const ask = async () => {
      let again: boolean
      try {
        const r = await fetch('/api/ready', { cache: 'no-store' })
        const body = (await r.json()) as { stage?: string }
        again = r.ok && body.stage === 'background'
      } catch {
        again = false // the connection banner speaks for a server that does not answer
      }
      if (stopped) return
      setBusy(again)
      if (again) timer = setTimeout(ask, everyMs)
    }
    void ask()
    return () => {
      stopped = true
      clearTimeout(timer)
    }
  }, [everyMs])
  if (!busy) return null
  return <div className="server-work" role="status" data-testid="server-work">{m.serverWork.demoStorm}</div>
}
