import { useI18n } from '../i18n/index.tsx'

export interface Problem {
  id: string
  message: string
  retry?: () => void
}

/** Problems the user must see: failed loads, lost connection, map errors. */
export function ErrorBanner({ problems, onDismiss }: { problems: Problem[]; onDismiss(id: string): void }) {
  const { t } = useI18n()
  if (!problems.length) return null
  return (
    <div className="banner" role="alert" data-testid="error-banner">
      {problems.map((p) => (
        <div key={p.id} className="banner-row">
          <span className="banner-icon">⚠</span>
          <span className="banner-text">{p.message}</span>
          {p.retry && <button onClick={p.retry}>{t('retry')}</button>}
          <button onClick={() => onDismiss(p.id)}>{t('dismiss')}</button>
        </div>
      ))}
    </div>
  )
}
