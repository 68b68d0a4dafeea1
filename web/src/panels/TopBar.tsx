import { useI18n } from '../i18n/index.tsx'

export function TopBar() {
  const { t, lang, setLang } = useI18n()
  return (
    <header className="topbar">
      <div className="brand">
        <strong data-testid="app-title">{t('appTitle')}</strong>
        <span className="muted">{t('appSubtitle')}</span>
      </div>
      <button className="lang" data-testid="lang-switch" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>
        {t('switchLanguage')}
      </button>
    </header>
  )
}
