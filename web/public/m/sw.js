/* global self, caches, fetch, URL, location */
// The field app's service worker: keeps the app shell (/m/ and its hashed
// assets) so the app opens with no signal. Data is not cached here: the app
// keeps its grid and outbox in IndexedDB and talks to /api itself.
const CACHE = 'gridwatch-field-v1'
const SHELL = '/m/'

async function cacheShell() {
  const cache = await caches.open(CACHE)
  const res = await fetch(SHELL, { cache: 'no-store' })
  if (!res.ok) return
  const html = await res.clone().text()
  await cache.put(SHELL, res)
  // The scripts and styles the page names (Vite's hashed file names): taken now, not on first use.
  const assets = [...html.matchAll(/(?:src|href)="(\/(?:assets|m)\/[^"]+)"/g)].map((m) => m[1])
  for (const a of new Set(assets)) if (!(await cache.match(a))) await cache.add(a)
}

self.addEventListener('install', (e) => {
  e.waitUntil(cacheShell().then(() => self.skipWaiting()))
})

self.addEventListener('activate', (e) => {
  e.waitUntil((async () => {
    for (const k of await caches.keys()) if (k !== CACHE) await caches.delete(k)
    await self.clients.claim()
  })())
})

self.addEventListener('fetch', (e) => {
  const req = e.request
  if (req.method !== 'GET') return
  const url = new URL(req.url)
  if (url.origin !== location.origin) return
  if (req.mode === 'navigate' && url.pathname.startsWith('/m')) {
    // The shell from the cache at once (fast with a weak signal or none); a fresh copy for next time when online.
    e.respondWith((async () => {
      const cache = await caches.open(CACHE)
      const cached = await cache.match(SHELL)
      const fresh = fetch(SHELL, { cache: 'no-store' }).then(async (res) => {
        if (res.ok) await cacheShell().catch(() => {})
        return res
      })
      if (cached) {
        e.waitUntil(fresh.catch(() => {}))
        return cached
      }
      return fresh
    })())
    return
  }
  if (url.pathname.startsWith('/assets/') || (url.pathname.startsWith('/m/') && url.pathname !== '/m/sw.js')) {
    // Hashed names never change content: the cache first, the network (and keep it) otherwise — the map's chunk too.
    e.respondWith((async () => {
      const cache = await caches.open(CACHE)
      const cached = await cache.match(req)
      if (cached) return cached
      const res = await fetch(req)
      if (res.ok) await cache.put(req, res.clone())
      return res
    })())
  }
})
