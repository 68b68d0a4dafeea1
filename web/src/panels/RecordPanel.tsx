import type { ReactNode } from 'react'
import type { Map as MapLibreMap } from 'maplibre-gl'
import type { GridRecord, HazardRecord, HouseholdRecord, RecordKind, RecordTypes, ShelterRecord } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'
import { dangerColor, riskColor } from '../map/colors.ts'
import type { Loaded } from '../useApi.ts'
import { apiMessage } from './apiMessage.ts'
import { GridActions, HouseholdActions } from './RecordActions.tsx'
import { RiskBar } from './UnitPanel.tsx'
import { withPhones } from './Phones.tsx'
import { HouseholdTransfer, SitePlan } from '../evac/RecordEvacuation.tsx'
import { when } from '../i18n/when.ts'
import { useAuth } from '../auth/AuthProvider.tsx'
import { PatrolSection } from './PatrolSection.tsx'
import { fieldChainRoles } from '../../../core/policy.ts'


interface Props {
  kind: RecordKind
  record: Loaded<RecordTypes[RecordKind]>
  onClose(): void
  onFlyTo(): void
  onOpen(kind: RecordKind, id: number): void
  onRetry(): void
  /** The command map, where a grid's patrol track is drawn. */
  map?: MapLibreMap | null
}

export function RecordPanel({ kind, record, onClose, onFlyTo, onOpen, onRetry, map = null }: Props) {
  const { t, m, lang } = useI18n()
  const { me } = useAuth()
  const title = { household: m.record.household, grid: m.record.grid, hazard: m.record.hazard, shelter: m.record.shelter }[kind]
  return (
    <section className="panel record-panel" data-testid="record-panel" data-kind={kind}>
      <header>
        <h2>{kind === 'grid' && record.state === 'ok' && (record.data as GridRecord).kind === 'micro' ? m.record.microGrid : title}</h2>
        <button className="link" onClick={onFlyTo} disabled={record.state !== 'ok'}>{t('record.flyTo')}</button>
        <button className="close" aria-label={t('close')} onClick={onClose}>×</button>
      </header>
      {record.state === 'loading' && <p className="muted">{t('loading')}</p>}
      {record.state === 'error' && (
        <p className="error">
          {apiMessage(record.error, lang, m)} <button onClick={onRetry}>{t('retry')}</button>
        </p>
      )}
      {record.state === 'ok' && kind === 'household' && (
        <>
          <Household h={record.data as HouseholdRecord} onOpen={onOpen} />
          <HouseholdTransfer key={`t${(record.data as HouseholdRecord).id}`} id={(record.data as HouseholdRecord).id} />
          <HouseholdActions key={(record.data as HouseholdRecord).id} h={record.data as HouseholdRecord} onChanged={onRetry} />
        </>
      )}
      {record.state === 'ok' && kind === 'grid' && (
        <>
          <Grid g={record.data as GridRecord} onOpen={onOpen} />
          <GridActions key={(record.data as GridRecord).id} g={record.data as GridRecord} onChanged={onRetry} />
          {fieldChainRoles.has(me.user.role) && <PatrolSection grid={(record.data as GridRecord).code} map={map} />}
        </>
      )}
      {record.state === 'ok' && kind === 'hazard' && (
        <>
          <Hazard h={record.data as HazardRecord} onOpen={onOpen} />
          <SitePlan key={(record.data as HazardRecord).id} id={(record.data as HazardRecord).id} />
        </>
      )}
      {record.state === 'ok' && kind === 'shelter' && <Shelter s={record.data as ShelterRecord} />}
    </section>
  )
}

function Rows({ children }: { children: ReactNode }) {
  return <dl className="rows">{children}</dl>
}
function Row({ label, children, testid }: { label: string; children: ReactNode; testid?: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd data-testid={testid}>{typeof children === 'string' ? withPhones(children) : children ?? '—'}</dd>
    </>
  )
}

function useAgo() {
  const { t } = useI18n()
  return (iso: string) => {
    const hours = (Date.now() - new Date(iso).getTime()) / 3_600_000
    return hours < 48 ? t('record.hoursAgo', { n: Math.max(0, Math.round(hours)) }) : t('record.daysAgo', { n: Math.round(hours / 24) })
  }
}

function Household({ h, onOpen }: { h: HouseholdRecord; onOpen: Props['onOpen'] }) {
  const { t, m, term, lang } = useI18n()
  const ago = useAgo()
  const at = (iso: string) => when(iso, lang, { dateStyle: 'medium', timeStyle: 'short' })
  return (
    <>
      <div className="record-title">
        <span className="risk-dot big" style={{ background: riskColor[h.risk_level] }} />
        <h1 data-testid="record-title">{h.householder}</h1>
        <span className={`badge risk-${h.risk_level}`} data-testid="record-risk">{term('risk', h.risk_level)}</span>
      </div>
      <div className={`visit ${h.overdue ? 'overdue' : 'ok'}`} data-testid="record-visit">
        <strong>{h.overdue ? t('record.overdue') : t('record.onTime')}</strong>
        <span>
          {t('record.lastVisit')}{t('colon')}{h.last_visit_at ? t('record.whenAgo', { when: at(h.last_visit_at), ago: ago(h.last_visit_at) }) : t('record.neverVisited')}
        </span>
        <span>{t('record.visitRule')}{t('colon')}{m.record.visitEvery[h.risk_level]}</span>
      </div>
      <Rows>
        <Row label={t('record.code')}><span translate="no">{h.code}</span></Row>
        <Row label={t('record.members')} testid="record-members">{t('people', { n: h.members })}</Row>
        <Row label={t('record.elderlyAlone')}>{h.elderly_alone}</Row>
        <Row label={t('record.leftBehindChildren')}>{h.left_behind_children}</Row>
        <Row label={t('record.disabled')}>{h.disabled}</Row>
        <Row label={t('record.floodExposed')}>{h.flood_exposed ? t('yes') : t('no')}</Row>
        <Row label={t('record.phone')} testid="record-phone">{h.phone}</Row>
        <Row label={t('record.cadre')} testid="record-cadre">
          {h.cadre ? t('record.person', { name: h.cadre.name, role: term('roles', h.cadre.role), phone: h.cadre.phone }) : t('none')}
        </Row>
        <Row label={t('record.measures')}>{h.measures}</Row>
        <Row label={t('record.place')}>{`${h.county.name} ${h.township.name} ${h.village.name}`}</Row>
        <Row label={t('record.gridOf')}>
          <button className="link" onClick={() => onOpen('grid', h.grid.id)}>{h.grid.name}</button>
          {h.micro_grid && (
            <>
              {' · '}
              <button className="link" onClick={() => onOpen('grid', h.micro_grid!.id)}>{h.micro_grid.name}</button>
            </>
          )}
        </Row>
        <Row label={t('record.hazardsThreatening')}>
          {h.hazards.length
            ? h.hazards.map((z) => (
                <button key={z.id} className="link block" onClick={() => onOpen('hazard', z.id)}>
                  {t('record.nameKind', { name: z.name, kind: term('hazardTypes', z.type) })}
                </button>
              ))
            : t('none')}
        </Row>
        {!!h.photos?.length && (
          <Row label={t('record.fieldPhotos')}>
            <span className="report-photos" data-testid="record-photos">
              {h.photos.map((p) => {
                const alt = t('record.fieldPhotoAlt', { kind: m.record.fieldPhotoKind[p.kind], when: at(p.at) })
                return (
                  <a key={p.id} href={`/api/field/photos/${p.id}`} target="_blank" rel="noreferrer">
                    <img src={`/api/field/photos/${p.id}/thumb`} alt={alt} title={alt} loading="lazy" data-photo={p.id} />
                  </a>
                )
              })}
            </span>
          </Row>
        )}
      </Rows>
    </>
  )
}

function Grid({ g, onOpen }: { g: GridRecord; onOpen: Props['onOpen'] }) {
  const { t, num, term } = useI18n()
  return (
    <>
      <div className="record-title">
        <h1 data-testid="record-title">{g.name}</h1>
      </div>
      <RiskBar red={g.stats.red} yellow={g.stats.yellow} green={g.stats.green} wide />
      <Rows>
        <Row label={t('record.code')}><span translate="no">{g.code}</span></Row>
        <Row label={t('record.place')}>{g.village.name}</Row>
        {g.parent && (
          <Row label={t('record.parentGrid')}>
            <button className="link" onClick={() => onOpen('grid', g.parent!.id)}>{g.parent.name}</button>
          </Row>
        )}
        <Row label={t('stats.households')} testid="record-households">{num(g.stats.households)}</Row>
        <Row label={t('stats.red')}>{num(g.stats.red)}</Row>
        <Row label={t('stats.yellow')}>{num(g.stats.yellow)}</Row>
        <Row label={t('stats.green')}>{num(g.stats.green)}</Row>
        <Row label={t('stats.people')}>{num(g.stats.people)}</Row>
        <Row label={t('stats.vulnerable')}>{num(g.stats.vulnerable)}</Row>
        <Row label={t('record.workers')}>
          {g.workers.length
            ? g.workers.map((w, i) => <div key={i}>{withPhones(t('record.roleName', { role: term('roles', w.role), name: w.name, phone: w.phone }))}</div>)
            : t('none')}
        </Row>
      </Rows>
    </>
  )
}

function Hazard({ h, onOpen }: { h: HazardRecord; onOpen: Props['onOpen'] }) {
  const { t, term, num } = useI18n()
  return (
    <>
      <div className="record-title">
        <span className="tri" style={{ borderBottomColor: dangerColor[h.danger_level] }} />
        <h1 data-testid="record-title">{h.name}</h1>
        <span className="badge">{term('dangerLevels', h.danger_level)}</span>
      </div>
      <Rows>
        <Row label={t('record.code')}><span translate="no">{h.code}</span></Row>
        <Row label={t('record.type')}>{term('hazardTypes', h.type)}</Row>
        <Row label={t('record.scale')}>{term('dangerLevels', h.scale)}</Row>
        <Row label={t('record.dangerLevel')}>{term('dangerLevels', h.danger_level)}</Row>
        <Row label={t('record.threatenedHouseholds')}>{num(h.threatened_households)}</Row>
        <Row label={t('record.threatenedPeople')}>{num(h.threatened_people)}</Row>
        <Row label={t('record.threatenedProperty')}>{h.threatened_property}</Row>
        <Row label={t('record.threatObject')}>{h.threat_object}</Row>
        <Row label={t('record.criticalRain')}>{t('record.mm', { a: h.critical_rain_1h ?? '—', b: h.critical_rain_24h ?? '—' })}</Row>
        <Row label={t('record.monitor')}>{h.monitor ? `${h.monitor.name} ${h.monitor.phone}` : t('none')}</Row>
        <Row label={t('record.monitoring')}>{h.monitoring_method}</Row>
        <Row label={t('record.warningSignal')}>{h.warning_signal}</Row>
        <Row label={t('record.countermeasure')}>{h.countermeasure}</Row>
        <Row label={t('record.trigger')}>{h.trigger_factor}</Row>
        <Row label={t('record.status')}>{t(h.status === 'active' ? 'record.statusActive' : h.status === 'proposed' ? 'record.statusProposed' : 'record.statusCancelled')}</Row>
        <Row label={t('record.place')}>{h.village.name}</Row>
        <Row label={t('record.routes')}>
          {h.routes.length
            ? h.routes.map((r) => (
                <button key={r.id} className="link block" onClick={() => onOpen('shelter', r.shelter.id)}>
                  {t('record.routeTo', { name: r.shelter.name, m: num(r.length_m), cap: num(r.shelter.capacity) })}
                </button>
              ))
            : t('none')}
        </Row>
      </Rows>
    </>
  )
}

function Shelter({ s }: { s: ShelterRecord }) {
  const { t, num } = useI18n()
  return (
    <>
      <div className="record-title">
        <h1 data-testid="record-title">{s.name}</h1>
      </div>
      <Rows>
        <Row label={t('record.code')}><span translate="no">{s.code}</span></Row>
        <Row label={t('record.kind')}>{s.kind}</Row>
        <Row label={t('record.capacity')}>{t('people', { n: num(s.capacity) })}</Row>
        <Row label={t('record.certifiedSafe')}>{s.certified_safe ? t('record.certified') : t('record.notCertified')}</Row>
        <Row label={t('record.manager')}>{s.manager ? `${s.manager} ${s.manager_phone ?? ''}` : t('none')}</Row>
        <Row label={t('record.place')}>{s.village.name}</Row>
      </Rows>
    </>
  )
}
