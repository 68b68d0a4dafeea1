import { StrictMode, Suspense } from 'react'
import { createRoot } from 'react-dom/client'
import { AuthProvider, useAuth } from './auth/AuthProvider.tsx'
import { LoginPage } from './auth/LoginPage.tsx'
import { PasswordForm } from './auth/PasswordForm.tsx'
import { ChunkBoundary, Loading } from './ChunkBoundary.tsx'
import { I18nProvider } from './i18n/index.tsx'
import { pageFor, preloadPage } from './routes.tsx'
// MapLibre's own rules first, ours after, as one stylesheet: a screen's chunk loaded later must not bring
// MapLibre's rules in after ours (its .maplibregl-map would move the map out from under the pointer).
import 'maplibre-gl/dist/maplibre-gl.css'
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

// The entry holds the login and nothing of the screens: the screen's own code is fetched at once, while the
// server says who is logged in and the login form is filled in.
const Page = preloadPage(pageFor(location.pathname))

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <I18nProvider>
      <AuthProvider login={(onIn, expired) => <LoginPage onIn={onIn} expired={expired} />}>
        {(me) => (me.user.mustChangePassword ? <ForcedPasswordChange /> : (
          <ChunkBoundary>
            <Suspense fallback={<Loading />}>
              <Page />
            </Suspense>
          </ChunkBoundary>
        ))}
      </AuthProvider>
    </I18nProvider>
  </StrictMode>,
)
