import { lazy, useState, type ComponentType, type LazyExoticComponent } from 'react'

/**
 * The screens by address, each its own chunk: the command map does not carry
 * the grid editor, the wall, the print sheet or the transfer cards, and none
 * of them carries another. A screen's chunk is asked for as soon as the entry
 * runs (`preloadPage`), so it arrives while the login form is shown.
 */
export type PageName = 'map' | 'cards' | 'print' | 'editor' | 'screen'

export function pageFor(pathname: string): PageName {
  switch (pathname) {
    case '/cards': return 'cards'
    case '/print': return 'print'
    case '/editor': return 'editor'
    case '/screen': return 'screen'
    default: return 'map'
  }
}

const loaders: Record<PageName, () => Promise<{ default: ComponentType }>> = {
  map: () => import('./App.tsx').then((m) => ({ default: m.App })),
  cards: () => import('./evac/CardsPage.tsx').then((m) => ({ default: m.CardsPage })),
  print: () => import('./print/PrintPage.tsx').then((m) => ({ default: m.PrintPage })),
  editor: () => import('./editor/EditorPage.tsx').then((m) => ({ default: m.EditorPage })),
  screen: () => import('./wall/WallPage.tsx').then((m) => ({ default: m.WallPage })),
}

const pages = new Map<PageName, ComponentType>()

/**
 * Starts fetching the screen's code; the same promise serves the render. A screen whose code is in by the time it
 * is first rendered (the usual case: it came while the login form was shown) is rendered as it is, not through
 * lazy(): lazy() suspends on its first render even with the promise settled, and React then holds the boundary's
 * content back 300 ms after putting its fallback up — the command map was made 300 ms after the login's answer.
 */
export function preloadPage(name: PageName): ComponentType {
  let page = pages.get(name)
  if (!page) {
    const loading = loaders[name]()
    let loaded: ComponentType | undefined
    // A failed fetch is shown by the boundary when the page renders, not thrown here.
    loading.then((m) => (loaded = m.default), () => {})
    const Lazy: LazyExoticComponent<ComponentType> = lazy(() => loading)
    page = function Screen() {
      // Chosen once per mount: switching from the lazy one to the loaded one would mount the screen anew.
      const [Chosen] = useState(() => loaded ?? Lazy)
      return <Chosen />
    }
    pages.set(name, page)
  }
  return page
}
