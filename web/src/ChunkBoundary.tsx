import { Component, Suspense, type ErrorInfo, type ReactNode } from 'react'
import { useI18n } from './i18n/index.tsx'

/**
 * Code loaded on demand can fail to arrive (the network dropped, or the
 * server was updated and the old chunk is gone): say so and offer a reload,
 * instead of a blank screen.
 */
export class ChunkBoundary extends Component<{ children: ReactNode; inline?: boolean }, { failed: string | null }> {
  state = { failed: null as string | null }
  static getDerivedStateFromError(err: unknown) {
    return { failed: err instanceof Error ? err.message : String(err) }
  }
  // The page shows only the message: the stack goes to the console, where a support person can read it.
  componentDidCatch(err: unknown, info: ErrorInfo) {
    console.error(err, info.componentStack)
  }
  render() {
    if (this.state.failed === null) return this.props.children
    return <ChunkFailed message={this.state.failed} inline={this.props.inline} />
  }
}

function ChunkFailed({ message, inline }: { message: string; inline?: boolean }) {
  const { t } = useI18n()
  return (
    <div className={inline ? 'panel chunk-failed' : 'login-page'} role="alert" data-testid="chunk-failed">
      <div className={inline ? undefined : 'panel login'}>
        <p>{t('errors.page', { msg: message })}</p>
        <button className="primary" onClick={() => location.reload()}>{t('reload')}</button>
      </div>
    </div>
  )
}

/** What shows while a screen's code arrives. */
export function Loading({ inline }: { inline?: boolean }) {
  const { t } = useI18n()
  return <div className={inline ? 'panel muted' : 'page-loading'} data-testid="page-loading">{t('loading')}</div>
}

/** A side panel whose code is loaded when it is opened: "loading" in its place meanwhile, a reload offer if it fails. */
export function LazyPanel({ children }: { children: ReactNode }) {
  return (
    <ChunkBoundary inline>
      <Suspense fallback={<Loading inline />}>{children}</Suspense>
    </ChunkBoundary>
  )
}
