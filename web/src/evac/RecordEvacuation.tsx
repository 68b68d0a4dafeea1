import { useI18n } from '../i18n/index.tsx'
import { evacColor, type EvacStatus } from '../map/colors.ts'
import { useApi } from '../useApi.ts'
import { withPhones } from '../panels/Phones.tsx'

interface Person { name: string; phone: string | null }
interface Plan {
  warningSignal: string | null; official: Person | null; monitor: Person | null; reporter: Person | null
  routes: { id: number; lengthM: number }[] | null; shelters: { id: number; name: string; capacity: number; certifiedSafe: boolean }[] | null
  fixed: Record<'official' | 'monitor' | 'reporter' | 'warningSignal' | 'route' | 'shelter', boolean>; complete: boolean
}
interface Card {
  transfer: { orderId: number; title: string; status: EvacStatus; deadline: string; shelter: string | null } | null
  hazards: { id: number; name: string; signal: string | null; route: { lengthM: number } | null; shelter: { name: string; certifiedSafe: boolean } | null }[] | null
}

const who = (p: Person | null) => (p ? `${p.name}${p.phone ? ` ${p.phone}` : ''}` : null)

/** A hazard site's 六落实: the six things its plan must fix, each shown as in place or missing. */
export function SitePlan({ id }: { id: number }) {
  const { t, m } = useI18n()
  const plan = useApi<Plan>(`/api/hazards/${id}/plan`)
  if (plan.state !== 'ok') return null
  const p = plan.data
  const rows: [keyof Plan['fixed'], string | null][] = [
    ['official', who(p.official)], ['monitor', who(p.monitor)], ['reporter', who(p.reporter)], ['warningSignal', p.warningSignal],
    ['route', p.routes?.map((r) => `${r.lengthM} m`).join(', ') ?? null],
    ['shelter', p.shelters?.map((s) => `${s.name} (${s.capacity}${s.certifiedSafe ? '' : `, ${t('evac.plan.uncertified')}`})`).join(', ') ?? null],
  ]
  return (
    <div className="site-plan" data-testid="site-plan">
      <h3>{t('evac.plan.title')} {p.complete ? <span className="ok">✓</span> : <span className="late">{t('evac.plan.incomplete')}</span>}</h3>
      <dl className="rows">
        {rows.map(([k, v]) => (
          <div key={k} style={{ display: 'contents' }}>
            <dt>{m.evac.plan[k]}</dt>
            <dd className={p.fixed[k] ? '' : 'late'}>{v ? withPhones(v) : t('evac.plan.missing')}</dd>
          </div>
        ))}
      </dl>
    </div>
  )
}

/** A household's 避险明白卡 in short: where it goes, and where it stands in an open transfer. */
export function HouseholdTransfer({ id }: { id: number }) {
  const { t, m } = useI18n()
  const card = useApi<Card>(`/api/households/${id}/card`)
  if (card.state !== 'ok') return null
  const c = card.data
  const site = c.hazards?.[0]
  return (
    <div className="household-transfer" data-testid="household-transfer">
      <h3>{t('evac.card.title')}</h3>
      {c.transfer && (
        <div className="chip"><i style={{ background: evacColor[c.transfer.status] }} />{c.transfer.title}: {m.evac.statuses[c.transfer.status]}{c.transfer.shelter ? ` → ${c.transfer.shelter}` : ''}</div>
      )}
      {site ? (
        <div className="small">
          {t('evac.card.line', { site: site.name, signal: site.signal ?? '—', shelter: site.shelter?.name ?? t('evac.noShelter'), length: site.route?.lengthM ?? '—' })}
        </div>
      ) : (
        <div className="small muted">{t('evac.card.notThreatened')}</div>
      )}
    </div>
  )
}
