import { phases } from '../../../core/rules/checks.ts'
import { levels } from '../../../core/rules/escalation.ts'
import { format, useI18n } from '../i18n/index.tsx'
import { evacColor, rainColor } from '../map/colors.ts'
import { beijing, rainNote, useWallText, wallCatalogs, type WallText } from '../i18n/wall.ts'
import type { WallState } from './useWallState.ts'

const COLOURS = ['red', 'orange', 'yellow', 'blue'] as const
const STATUSES = ['at_shelter', 'returned', 'moving', 'notified', 'not_notified', 'refused', 'unreachable'] as const
const pct = (part: number, whole: number) => (whole > 0 ? Math.round((100 * part) / whole) : 0)

function Bar({ parts }: { parts: { value: number; color: string }[] }) {
  const total = parts.reduce((a, p) => a + p.value, 0)
  return (
    <div className="wall-bar">
      {total > 0 && parts.map((p, i) => p.value > 0 && <span key={i} style={{ width: `${(100 * p.value) / total}%`, background: p.color }} />)}
    </div>
  )
}

/** The big figures beside the map: rain and checks on the left, transfers and shelters on the right. */
export function WallFigures({ state: s, side }: { state: WallState | null; side: 'left' | 'right' }) {
  const t = useWallText()
  const { num } = useI18n()
  if (side === 'left') {
    const issued = s ? COLOURS.reduce((a, c) => a + s.warnings.issued[c], 0) : 0
    // Rain that is not current counts no grid under a signal and no site past critical: greyed (the map's note says how old).
    const stale = s && !s.rain.current
    return (
      <aside className="wall-side wall-left">
        <section data-testid="wall-warnings" className={stale ? 'stale' : ''} title={s && stale ? rainNote(t, s.rain) : undefined}>
          <h2>{t.warnings}</h2>
          <div className="wall-colours">
            {COLOURS.map((c) => (
              <div key={c} className={`wall-colour ${s && s.warnings.grids[c] > 0 ? 'on' : ''}`} style={{ borderColor: rainColor[c] }}>
                <b style={{ color: rainColor[c] }}>{s ? num(s.warnings.grids[c]) : '—'}</b>
                <small>{t.colours[c]}</small>
              </div>
            ))}
          </div>
          <p className="wall-sub">{format(t.warningsIssued, { n: issued })}</p>
        </section>
        <section data-testid="wall-sites" className={stale ? 'stale' : ''}>
          <h2>{t.sites}</h2>
          <p className="wall-big"><b className={s?.sites.overCritical ? 'alarm' : ''}>{s ? num(s.sites.overCritical) : '—'}</b>
            <small> {s ? format(t.sitesOf, { n: num(s.sites.active) }) : ''}</small></p>
          <ul className="wall-list">
            {s && !s.sites.top.length && <li className="wall-quiet">{t.noSites}</li>}
            {s?.sites.top.slice(0, 4).map((x) => (
              <li key={x.code}><span>{x.name}</span><em>{x.rain1h >= x.critical1h ? format(t.siteRain1h, { rain: x.rain1h, critical: x.critical1h }) : format(t.siteRain24h, { rain: x.rain24h, critical: x.critical24h })}</em></li>
            ))}
          </ul>
        </section>
        <section data-testid="wall-checks">
          <h2>{t.checks}</h2>
          {phases.map((ph) => {
            const c = s?.checks[ph] ?? { total: 0, done: 0, inProgress: 0 }
            return (
              <div key={ph} className="wall-phase">
                <span>{t.phases[ph]}</span>
                <b>{c.total ? `${pct(c.done, c.total)}%` : '—'}</b>
                <small>{format(t.checksLine, { done: num(c.done), total: num(c.total) })}</small>
                <Bar parts={[{ value: c.done, color: evacColor.at_shelter }, { value: c.inProgress, color: evacColor.notified }, { value: c.total - c.done - c.inProgress, color: '#33415f' }]} />
              </div>
            )
          })}
        </section>
      </aside>
    )
  }
  const tr = s?.transfer
  const safe = tr ? tr.at_shelter + tr.returned : 0
  return (
    <aside className="wall-side wall-right">
      <section data-testid="wall-transfer">
        <h2>{t.transfer}</h2>
        {tr && !tr.households && <p className="wall-quiet">{t.noOrders}</p>}
        <p className="wall-label">{t.households}</p>
        <p className="wall-big"><b>{tr ? num(safe) : '—'}</b><small> / {tr ? num(tr.households) : '—'}</small></p>
        <Bar parts={STATUSES.map((st) => ({ value: tr?.[st] ?? 0, color: evacColor[st] }))} />
        <ul className="wall-statuses">
          {STATUSES.map((st) => tr && tr[st] > 0 && (
            <li key={st}><i style={{ background: evacColor[st] }} />{t.statuses[st]} <b>{num(tr[st])}</b></li>
          ))}
        </ul>
        <p className="wall-label">{t.peopleAtShelter}</p>
        <p className="wall-mid"><b>{tr ? num(tr.peopleAtShelter) : '—'}</b><small> / {tr ? num(tr.people) : '—'}</small></p>
        <p className="wall-label">{t.vulnerableNotSafe}</p>
        <p className="wall-mid" data-testid="wall-vulnerable"><b className={tr?.vulnerableNotSafe ? 'alarm' : 'ok'}>{tr ? num(tr.vulnerableNotSafe) : '—'}</b></p>
      </section>
      <section data-testid="wall-shelters">
        <h2>{t.shelters}</h2>
        <ul className="wall-list">
          {s && !s.shelters.some((x) => x.people > 0) && <li className="wall-quiet">{t.noShelters}</li>}
          {s?.shelters.filter((x) => x.people > 0).slice(0, 5).map((x) => (
            <li key={x.id} className="wall-shelter">
              <span>{x.name}</span><em className={x.people > x.capacity ? 'alarm' : ''}>{num(x.people)}/{num(x.capacity)}</em>
              <Bar parts={[{ value: Math.min(x.people, x.capacity), color: x.people >= x.capacity ? rainColor.red : evacColor.notified }, { value: Math.max(0, x.capacity - x.people), color: '#33415f' }]} />
            </li>
          ))}
        </ul>
      </section>
    </aside>
  )
}

/** Under the map: townships ranked by progress, and the ticker. */
export function WallBottom({ state: s }: { state: WallState | null }) {
  const t = useWallText()
  const { num } = useI18n()
  const ranked = [...(s?.townships ?? [])]
    .map((x) => ({ ...x, score: (pct(x.safe, x.households) * (x.households ? 1 : 0) + pct(x.checksDone, x.checks) * (x.checks ? 1 : 0)) / ((x.households ? 1 : 0) + (x.checks ? 1 : 0) || 1) }))
    .sort((a, b) => a.score - b.score || a.code.localeCompare(b.code))
  return (
    <footer className="wall-bottom">
      <section className="wall-townships" data-testid="wall-townships">
        <h2>{t.townships}</h2>
        {s && !ranked.length && <p className="wall-quiet">{t.noTownships}</p>}
        <ol>
          {ranked.slice(0, 8).map((x) => (
            <li key={x.code}>
              <span className="name">{x.name}</span>
              <span className="cell">{t.townshipCols.transfer} <b>{x.households ? `${pct(x.safe, x.households)}%` : '—'}</b></span>
              <span className="cell">{t.townshipCols.checks} <b>{x.checks ? `${pct(x.checksDone, x.checks)}%` : '—'}</b></span>
              <Bar parts={[{ value: x.score, color: x.score >= 90 ? evacColor.at_shelter : x.score >= 50 ? evacColor.moving : rainColor.red }, { value: 100 - x.score, color: '#33415f' }]} />
            </li>
          ))}
        </ol>
      </section>
      <WallReports state={s} />
      <section className="wall-ticker" data-testid="wall-ticker">
        <h2>{t.ticker}</h2>
        {s && !s.ticker.length && <p className="wall-quiet">{t.noEvents}</p>}
        <ul>
          {s?.ticker.slice(0, 6).map((e) => (
            <li key={e.id}><time>{beijing(e.at).slice(0, 5) === beijing(s.at).slice(0, 5) ? beijing(e.at, false).slice(0, 5) : beijing(e.at).slice(0, 11)}</time><span className="where">{e.unitName ?? e.unitCode}</span>{describe(t, e, num)}</li>
          ))}
        </ul>
      </section>
    </footer>
  )
}

const URGENCIES = ['critical', 'urgent', 'normal'] as const

/**
 * Problem reports: open ones by the level owning them and urgency, the overdue
 * ones; per township the share closed of those filed in the window (办结率)
 * and the median time to acknowledge, the worst first.
 */
function WallReports({ state: s }: { state: WallState | null }) {
  const t = useWallText()
  const { num } = useI18n()
  const r = s?.reports
  const rows = r ? levels.filter((l) => URGENCIES.some((u) => r.open[l][u] > 0)) : []
  const towns = [...(r?.townships ?? [])].filter((x) => x.filed > 0)
    .sort((a, b) => a.closed / a.filed - b.closed / b.filed || b.filed - a.filed || a.code.localeCompare(b.code))
  const ack = (m: number | null) => (m === null ? '—' : m < 90 ? format(t.reportsMinutes, { n: num(Math.round(m)) }) : format(t.reportsHours, { n: (m / 60).toFixed(1) }))
  return (
    <section className="wall-reports" data-testid="wall-reports">
      <h2>{t.reports}</h2>
      <div className="wall-reports-cols">
        <div>
          <p className="wall-mid">
            <b data-testid="wall-reports-open">{r ? num(r.openTotal) : '—'}</b><small>{t.reportsOpen}</small>
            <b className={r?.overdueTotal ? 'alarm' : 'ok'} data-testid="wall-reports-overdue">{r ? num(r.overdueTotal) : '—'}</b><small>{t.reportsOverdue}</small>
          </p>
          {r && !rows.length && <p className="wall-quiet">{t.reportsNone}</p>}
          {rows.length > 0 && (
            <table className="wall-matrix">
              <thead><tr><th>{t.reportsLevel}</th>{URGENCIES.map((u) => <th key={u} className={u}>{t.urgencies[u]}</th>)}<th>{t.reportsOverdue}</th></tr></thead>
              <tbody>
                {rows.map((l) => (
                  <tr key={l}>
                    <th>{t.levels[l]}</th>
                    {URGENCIES.map((u) => <td key={u} className={r!.open[l][u] ? u : 'zero'}>{num(r!.open[l][u])}</td>)}
                    <td className={r!.overdue[l] ? 'alarm' : 'zero'}>{num(r!.overdue[l])}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <div>
          <p className="wall-label">{t.reportsTownships}</p>
          {r && <p className="wall-sub">{format(t.reportsSince, { since: beijing(r.since).slice(0, 11) })}</p>}
          {r && !towns.length && <p className="wall-quiet">{t.reportsNoTownships}</p>}
          <ul className="wall-list wall-closure">
            {towns.slice(0, 5).map((x) => (
              <li key={x.code}>
                <span>{x.name}</span>
                <b className={x.closed / x.filed < 0.5 ? 'alarm' : ''}>{pct(x.closed, x.filed)}%</b>
                <small>{format(t.reportsClosed, { closed: num(x.closed), filed: num(x.filed) })}</small>
                <em>{ack(x.ackMedianMinutes)}</em>
              </li>
            ))}
          </ul>
        </div>
      </div>
    </section>
  )
}

/** One line for a feed event (kinds: api/routes/events.ts and the writers of live_events). */
export function describe(t: WallText, e: WallState['ticker'][number], num: (n: number) => string): string {
  const p = e.payload as Record<string, unknown>
  const status = (k: unknown) => t.statuses[k as keyof WallText['statuses']] ?? String(k)
  switch (e.kind) {
    case 'evac.order':
      return p.action === 'closed' ? format(t.ev.orderClosed, { id: String(p.orderId) }) : format(t.ev.orderIssued, { title: String(p.title ?? ''), n: num(Number(p.households ?? 0)) })
    case 'evac.status':
      return format(t.ev.status, { n: num(Array.isArray(p.households) ? p.households.length : 1), from: status(p.from), to: status(p.status) })
    case 'rain.update': {
      const tasks = p.tasks as Record<string, number> | undefined
      const opened = tasks ? Object.values(tasks).reduce((a, b) => a + (Number(b) || 0), 0) : 0
      // The server adds rainAsOf (the end of the hour evaluated), as every screen says "rain as of".
      const time = typeof p.rainAsOf === 'string' ? beijing(p.rainAsOf).slice(6, 11) : beijing(e.at, false).slice(0, 5)
      return opened ? format(t.ev.rainTasks, { time, n: num(opened) }) : format(t.ev.rain, { time })
    }
    case 'task.item':
      return p.count !== undefined
        ? format(t.ev.taskDone, { phase: t.phases[p.phase as 'before'] ?? String(p.phase), n: num(Number(p.count)) })
        : format(t.ev.taskItem, { done: p.done ? t.ev.ticked : t.ev.unticked, id: String(p.taskId) })
    case 'report': {
      const level = t.levels[p.level as keyof WallText['levels']] ?? ''
      const name = p.name as { zh?: string; en?: string } | undefined
      if (p.action === 'filed') {
        return format(t.ev.reportFiled, { urgency: t.urgencies[p.urgency as keyof WallText['urgencies']] ?? '', type: (t === wallCatalogs.en ? name?.en : name?.zh) ?? '', level })
      }
      if (p.action === 'escalate') return format(p.auto ? t.ev.reportEscalated : t.ev.reportRaised, { id: String(p.id), level })
      return format(t.ev.reportStep, { id: String(p.id), state: t.reportStates[p.state as keyof WallText['reportStates']] ?? '' })
    }
    default:
      return e.kind
  }
}
