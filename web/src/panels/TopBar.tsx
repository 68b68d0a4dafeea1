import { useState } from 'react'
import { useAuth } from '../auth/AuthProvider.tsx'
import { PasswordForm } from '../auth/PasswordForm.tsx'
import { useI18n } from '../i18n/index.tsx'
import { AccountsPanel } from './AccountsPanel.tsx'

/** `onPlanning`: opens the planners' panel (规划分析), offered to roles that may export. */
export function TopBar({ onPlanning }: { onPlanning?: () => void } = {}) {
  const { t, m, lang, setLang } = useI18n()
  const { me, may, logout } = useAuth()
  const [open, setOpen] = useState<'password' | 'accounts' | null>(null)
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
        {onPlanning && may('data.export') && <button className="lang" data-testid="planning-open" onClick={onPlanning}>{t('planning.open')}</button>}
        {may('user.manage') && <button className="lang" onClick={() => setOpen('accounts')}>{t('accounts.open')}</button>}
        <button className="lang" onClick={() => setOpen('password')}>{t('auth.changePassword')}</button>
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
      {open === 'accounts' && (
        <div className="modal">
          <AccountsPanel onClose={() => setOpen(null)} />
        </div>
      )}
    </header>
  )
}
