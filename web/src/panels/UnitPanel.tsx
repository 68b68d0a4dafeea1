import { useEffect, useState } from 'react'
import { CITY_CODE, getJson, type UnitStats, type UnitSummary } from '../api.ts'
import { useI18n, type MessageKey } from '../i18n/index.tsx'
import { riskColor } from '../map/colors.ts'
import { ancestorCodes } from '../../../core/units.ts'
import type { Loaded } from '../useApi.ts'
import { apiMessage } from './apiMessage.ts'
import { useAuth } from '../auth/AuthProvider.tsx'
import { FieldWorkSection } from './FieldWorkSection.tsx'
import { fieldChainRoles } from '../../../core/policy.ts'

const summaries = new Map<string, Promise<UnitSummary>>()
/** Summaries of the ancestors fill the drop-downs; they rarely change, so each is asked for once per page. */
function summary(code: string) {
  let p = summaries.get(code)
  if (!p) {
    p = getJson<UnitSummary>(`/api/units/${code}`)
    p.catch(() => summaries.delete(code))
    summaries.set(code, p)
  }
  return p
}

function useAncestors(code: string) {
  const [chain, setChain] = useState<UnitSummary[]>([])
  useEffect(() => {
    let live = true
    const codes = ancestorCodes(code).slice(0, -1)
    Promise.all(codes.map(summary)).then((xs) => live && setChain(xs), () => live && setChain([]))
    return () => {
      live = false
    }
  }, [code])
  return chain
}

export function UnitPanel({ unit, code, onSelect }: { unit: Loaded<UnitSummary>; code: string; onSelect(code: string): void }) {
  const { t, m, lang, num } = useI18n()
  const { me } = useAuth()
  const ancestors = useAncestors(code)
  const current = unit.state === 'ok' ? unit.data : undefined
  // The drop-downs: one per level below the city, each listing the children of the level above.
  const levels = ['county', 'township', 'village'] as const
  const chain = [...ancestors, ...(current ? [current] : [])]
  const selects = levels.map((level, i) => {
    const parent = chain[i]
    const chosen = chain[i + 1]?.code ?? ''
    return { level, options: parent?.children ?? [], chosen, parentCode: parent?.code }
  })

  return (
    <section className="panel unit-panel" data-testid="unit-panel">
      <h2>{t('drill.title')}</h2>
      <div className="drill">
        <button className="link" onClick={() => onSelect(CITY_CODE)} data-testid="drill-city">{m.drill.city}</button>
        {selects.map(({ level, options, chosen, parentCode }) => (
          <label key={level}>
            <span>{t(`drill.${level}` as MessageKey)}</span>
            <select
              data-testid={`drill-${level}`}
              value={chosen}
              disabled={!options.length}
              onChange={(e) => onSelect(e.target.value || parentCode || CITY_CODE)}
            >
              <option value="">{t('drill.all')}</option>
              {options.map((o) => (
                <option key={o.code} value={o.code}>{o.name}</option>
              ))}
            </select>
          </label>
        ))}
      </div>
      {unit.state === 'loading' && <p className="muted">{t('loading')}</p>}
      {unit.state === 'error' && <p className="error">{apiMessage(unit.error, lang, m)}</p>}
      {current && <UnitStatsView unit={current} onSelect={onSelect} />}
      {current && fieldChainRoles.has(me.user.role) && <FieldWorkSection key={current.code} code={current.code} onSelect={onSelect} />}
      {current && !current.children.length && <p className="muted hint">{t('hint.click')}</p>}
      {current && current.children.length > 0 && (
        <>
          <h3>{t('drill.childrenTitle')}</h3>
          <ul className="children" data-testid="unit-children">
            {current.children.map((c) => (
              <li key={c.code}>
                <button className="child" onClick={() => onSelect(c.code)}>
                  <span className="child-name">{c.name}</span>
                  <RiskBar red={c.red} yellow={c.yellow} green={c.green} />
                  <span className="child-n">{num(c.households)}</span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  )
}

function UnitStatsView({ unit, onSelect }: { unit: UnitSummary; onSelect(code: string): void }) {
  const { t, num, term } = useI18n()
  const s: UnitStats = unit.stats
  const share = s.households ? ((s.red + s.yellow) / s.households) * 100 : 0
  const cell = (key: keyof UnitStats, value = num(s[key])) => (
    <div className="stat" data-stat={key}>
      <span className="stat-label">{t(`stats.${key}` as MessageKey)}</span>
      <span className="stat-value">{value}</span>
    </div>
  )
  return (
    <div className="unit-stats">
      <div className="unit-title">
        <h1 data-testid="unit-name">{unit.name}</h1>
        <span className="badge">{term('levels', unit.level)}</span>
        {unit.parent && (
          <button className="link" onClick={() => onSelect(unit.parent!.code)}>↑ {unit.parent.name}</button>
        )}
      </div>
      <div className="risk-row">
        {(['red', 'yellow', 'green'] as const).map((k) => (
          <div key={k} className={`risk-cell risk-${k}`} data-stat={k}>
            <span className="risk-dot" style={{ background: riskColor[k] }} />
            <span className="stat-label">{t(`stats.${k}`)}</span>
            <span className="stat-value">{num(s[k])}</span>
          </div>
        ))}
      </div>
      <RiskBar red={s.red} yellow={s.yellow} green={s.green} wide />
      <div className="stat-grid">
        {cell('households')}
        {cell('people')}
        {cell('vulnerable')}
        {cell('exposed')}
        {cell('hazardSites')}
        {cell('threatenedPeople')}
        {cell('shelters')}
        {cell('shelterCapacity')}
        {cell('gridWorkers')}
        {cell('grids')}
        <div className="stat">
          <span className="stat-label">{t('stats.riskShare')}</span>
          <span className="stat-value">{share.toFixed(1)}%</span>
        </div>
      </div>
    </div>
  )
}

export function RiskBar({ red, yellow, green, wide }: { red: number; yellow: number; green: number; wide?: boolean }) {
  const total = Math.max(1, red + yellow + green)
  return (
    <span className={`riskbar${wide ? ' wide' : ''}`} aria-hidden>
      <span style={{ width: `${(red / total) * 100}%`, background: riskColor.red }} />
      <span style={{ width: `${(yellow / total) * 100}%`, background: riskColor.yellow }} />
      <span style={{ width: `${(green / total) * 100}%`, background: riskColor.green }} />
    </span>
  )
}
