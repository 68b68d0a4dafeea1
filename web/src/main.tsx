import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { CardsPage } from './evac/CardsPage.tsx'
import { EditorPage } from './editor/EditorPage.tsx'
import { PrintPage } from './print/PrintPage.tsx'
import { WallPage } from './wall/WallPage.tsx'
import { AuthProvider, useAuth } from './auth/AuthProvider.tsx'
import { LoginPage } from './auth/LoginPage.tsx'
import { PasswordForm } from './auth/PasswordForm.tsx'
import { I18nProvider } from './i18n/index.tsx'
import './styles.css'

/** An account with a reset password sees nothing else until it sets its own. */
function ForcedPasswordChange() {
  const { refresh } = useAuth()
  return (
    <div className="login-page">
      <PasswordForm forced onDone={() => void refresh()} />
    </div>
  )
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <I18nProvider>
      <AuthProvider login={(onIn, expired) => <LoginPage onIn={onIn} expired={expired} />}>
        {(me) => (me.user.mustChangePassword ? <ForcedPasswordChange /> : location.pathname === '/cards' ? <CardsPage /> : location.pathname === '/print' ? <PrintPage /> : location.pathname === '/editor' ? <EditorPage /> : location.pathname === '/screen' ? <WallPage /> : <App />)}
      </AuthProvider>
    </I18nProvider>
  </StrictMode>,
)
