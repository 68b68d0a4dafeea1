import { useI18n } from '../i18n/index.tsx'
import { apiMessage } from '../panels/apiMessage.ts'
import { useApi } from '../useApi.ts'
import type { TransferRow } from './types.ts'
import { when } from '../i18n/when.ts'

interface Lists {
  order: { id: number; title: string; deadline: string }
  total: number
  lists: { cadre: { name: string; phone: string | null } | null; households: TransferRow[] }[]
}

/**
 * /cards?order=N[&unit=CODE]: a print-ready transfer list for each answerable
 * cadre (who, where, which route, which shelter), one cadre a page.
 */
export function CardsPage() {
  const { t, m, lang, num } = useI18n()
  const q = new URLSearchParams(location.search)
  const order = /^[1-9][0-9]{0,9}$/.test(q.get('order') ?? '') ? q.get('order') : null
  const unit = /^[0-9]{12}([0-9]{3})?$/.test(q.get('unit') ?? '') ? q.get('unit') : null
  const data = useApi<Lists>(order ? `/api/evacuation/orders/${order}/cards${unit ? `?unit=${unit}` : ''}` : null)
  const at = (d: string | number) => when(d, lang, { dateStyle: 'short', timeStyle: 'short' })
  if (!order) return <div className="cards-page error">{t('errors.badAddress')}</div>
  if (data.state === 'error') return <div className="cards-page error" role="alert">{apiMessage(data.error, lang, m)}</div>
  if (data.state !== 'ok') return <div className="cards-page muted">{t('loading')}</div>
  const d = data.data
  return (
    <div className="cards-page" data-testid="cards-page">
      <div className="no-print"><button onClick={() => window.print()}>{t('evac.cards.print')}</button></div>
      {d.lists.map((l, i) => (
        <section key={i} className="card-sheet" data-testid="card-sheet">
          <h1>{t('evac.cards.title')}</h1>
          <p>{t('evac.cards.summary', { title: d.order.title, n: num(l.households.length), when: at(Date.now()) })} · {t('evac.deadlineAt', { when: at(d.order.deadline) })}</p>
          <h2>{l.cadre ? t('evac.cards.cadre', { name: l.cadre.name }) : t('evac.cards.noCadre')} {l.cadre?.phone ? `· ${t('evac.cards.phone')} ${l.cadre.phone}` : ''}</h2>
          <table>
            <thead>
              <tr>
                <th>{t('evac.cards.household')}</th><th>{t('evac.cards.phone')}</th><th>{t('evac.cards.members')}</th><th>{t('evac.cards.grid')}</th>
                <th>{t('evac.cards.hazard')}</th><th>{t('evac.cards.route')}</th><th>{t('evac.cards.shelter')}</th><th>{t('evac.cards.manager')}</th><th>{t('evac.cards.status')}</th>
              </tr>
            </thead>
            <tbody>
              {l.households.map((h) => (
                <tr key={h.id}>
                  <td>{h.householder}</td>
                  <td className="phone">{h.phone ?? '—'}</td>
                  <td>{h.members}{h.vulnerable ? ` (${t('evac.vulnerableN', { n: h.vulnerable })})` : ''}</td>
                  <td>{h.gridName}</td>
                  <td>{h.hazard ? `${h.hazard.name}${h.hazard.signal ? ` · ${h.hazard.signal}` : ''}` : '—'}</td>
                  <td>{h.route ? `${h.route.from} ${num(h.route.lengthM)} m` : '—'}</td>
                  <td>{h.shelter ? h.shelter.name : t('evac.noShelter')}</td>
                  <td>{h.shelter?.manager ? `${h.shelter.manager} ${h.shelter.managerPhone ?? ''}` : '—'}</td>
                  <td>{m.evac.statuses[h.status]}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  )
}
