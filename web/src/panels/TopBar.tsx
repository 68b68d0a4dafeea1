import { lazy, useState } from 'react'
import { useAuth } from '../auth/AuthProvider.tsx'
import { PasswordForm } from '../auth/PasswordForm.tsx'
import { useI18n } from '../i18n/index.tsx'
import { LazyPanel } from '../ChunkBoundary.tsx'

// Account management is for administrators only: its own chunk.
const AccountsPanel = lazy(() => import('./AccountsPanel.tsx').then((m) => ({ default: m.AccountsPanel })))
// Access tokens for desktop GIS clients: opened by few, its own chunk too.
const TokensPanel = lazy(() => import('./TokensPanel.tsx').then((m) => ({ default: m.TokensPanel })))

/**
 * `onPlanning`: opens the planners' panel (规划分析), offered to roles that may export;
 * `onReports`: opens the problem reports (问题上报), which everyone may read.
 */
export function TopBar({ onPlanning, onReports }: { onPlanning?: () => void; onReports?: () => void } = {}) {
  const { t, m, lang, setLang } = useI18n()
  const { me, may, logout } = useAuth()
  const [open, setOpen] = useState<'password' | 'accounts' | 'tokens' | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  return (
    <header className="topbar">
      <div className="brand">
        <strong data-testid="app-title">{t('appTitle')}</strong>
        <span className="muted">{t('appSubtitle')}</span>
      </div>
      <div className="account" data-testid="account">
        <span title={t('auth.scope', { code: me.user.unitCode })}>
          <strong data-testid="account-name">{me.user.displayName}</strong> <span className="muted">{m.roleNames[me.user.role]}</span>
        </span>
        {notice && <span className="small">{notice}</span>}
        {onReports && <button className="lang" data-testid="reports-open" onClick={onReports}>{t('reports.open')}</button>}
        {onPlanning && may('data.export') && <button className="lang" data-testid="planning-open" onClick={onPlanning}>{t('planning.open')}</button>}
        {may('user.manage') && <button className="lang" onClick={() => setOpen('accounts')}>{t('accounts.open')}</button>}
        <button className="lang" onClick={() => setOpen('password')}>{t('auth.changePassword')}</button>
        <button className="lang" data-testid="tokens-open" onClick={() => setOpen('tokens')}>{t('tokens.open')}</button>
        <button className="lang" data-testid="logout" onClick={() => void logout()}>{t('auth.logout')}</button>
        <button className="lang" data-testid="lang-switch" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>
          {t('switchLanguage')}
        </button>
      </div>
      {open === 'password' && (
        <div className="modal">
          <PasswordForm forced={false} onCancel={() => setOpen(null)} onDone={() => { setOpen(null); setNotice(t('auth.changed')) }} />
        </div>
      )}
      {open === 'tokens' && (
        <div className="modal">
          <LazyPanel>
            <TokensPanel onClose={() => setOpen(null)} />
          </LazyPanel>
        </div>
      )}
      {open === 'accounts' && (
        <div className="modal">
          <LazyPanel>
            <AccountsPanel onClose={() => setOpen(null)} />
          </LazyPanel>
        </div>
      )}
    </header>
  )
}
