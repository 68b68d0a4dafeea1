/* global self, caches, fetch, URL, location, Response, Headers */
// The field app's service worker: keeps the app shell (/m/ and its hashed
// assets) so the app opens with no signal, and the map tiles of the worker's
// grid (z12–16, our vector layers and the basemap's raster when one is
// configured) so the small map draws with no signal. The grid's data and the
// outbox are the app's, in IndexedDB.
const CACHE = 'gridwatch-field-v1'
const TILES = 'gridwatch-field-tiles-v1'
const SHELL = '/m/'
// Thumbnails of photos the lists show: kept as they are met (a photo never changes under its id).
const THUMBS = 'gridwatch-field-thumbs-v1'
const THUMB_PATH = /^\/api\/field\/photos\/[0-9]{1,18}\/thumb$/
const MAX_THUMBS = 300

// 'no-cache': the browser asks with the page's ETag, and an unchanged page (its scripts are inside it, 78 KB) comes
// back as a 304 of a few bytes.
const fetchShell = () => fetch(SHELL, { cache: 'no-cache' })

async function cacheShell(fetched) {
  const cache = await caches.open(CACHE)
  const res = fetched ?? await fetchShell()
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
    for (const k of await caches.keys()) if (k !== CACHE && k !== TILES && k !== THUMBS) await caches.delete(k)
    await self.clients.claim()
  })())
})

// The tiles to keep, as the app last said (web/src/field/tile-list.ts): their URLs are the keys of the tile cache.
let keeping = null
let wanted = new Set()

/**
 * Fetches the grid's tiles into the tile cache and drops the ones no longer
 * wanted (another grid). A tile already kept is asked again only when `refresh`
 * (the app has a signal and its copy is old): with its ETag the answer is a
 * cheap 304. Stops at the byte cap; four at a time on a weak line.
 */
async function keepTiles({ urls, maxTiles, maxBytes, refresh }) {
  const cache = await caches.open(TILES)
  const list = urls.slice(0, maxTiles)
  wanted = new Set(list.map((u) => new URL(u, location.origin).href))
  for (const req of await cache.keys()) if (!wanted.has(req.url)) await cache.delete(req)
  let bytes = 0
  let kept = 0
  let failed = 0
  let next = 0
  const one = async (u) => {
    const href = new URL(u, location.origin).href
    const old = await cache.match(href)
    if (old && !refresh) {
      bytes += Number(old.headers.get('x-kept-bytes') ?? 0)
      kept++
      return
    }
    if (bytes >= maxBytes) return
    try {
      const same = href.startsWith(location.origin + '/')
      const headers = same && old?.headers.get('etag') ? { 'If-None-Match': old.headers.get('etag') } : {}
      const res = await fetch(href, { mode: same ? 'same-origin' : 'cors', credentials: same ? 'same-origin' : 'omit', cache: 'no-cache', headers })
      if (res.status === 304 && old) {
        bytes += Number(old.headers.get('x-kept-bytes') ?? 0)
        kept++
        return
      }
      // An empty vector tile (204) is kept too: "nothing here" is worth knowing offline.
      if (!res.ok) { failed++; return }
      const body = await res.arrayBuffer()
      bytes += body.byteLength
      const h = new Headers(res.headers)
      h.set('x-kept-bytes', String(body.byteLength))
      h.delete('content-encoding')
      h.delete('content-length')
      await cache.put(href, new Response(res.status === 204 ? null : body, { status: res.status, headers: h }))
      kept++
    } catch {
      failed++
    }
  }
  const workers = Array.from({ length: 4 }, async () => { while (next < list.length) await one(list[next++]) })
  await Promise.all(workers)
  return { kept, failed, bytes, wanted: list.length }
}

self.addEventListener('message', (e) => {
  const d = e.data
  if (d?.type === 'keep-assets' && Array.isArray(d.urls)) {
    // Code the page loaded before this worker controlled it (the map's chunk, fetched in idle time on the first visit).
    e.waitUntil((async () => {
      const cache = await caches.open(CACHE)
      for (const u of d.urls.slice(0, 100)) {
        if (typeof u !== 'string' || !/^\/assets\/[A-Za-z0-9._-]+$/.test(u)) continue
        if (!(await cache.match(u))) await cache.add(u).catch(() => {})
      }
    })())
    return
  }
  if (!d || d.type !== 'keep-tiles' || !Array.isArray(d.urls)) return
  // Only our own tile paths and http(s) addresses; the byte and count caps come with the list.
  const urls = d.urls.filter((u) => typeof u === 'string' && (/^\/tiles\/[a-z_]+\/[0-9]+\/[0-9]+\/[0-9]+\.mvt$/.test(u) || /^https?:\/\//.test(u)))
  const job = (keeping ?? Promise.resolve()).then(() => keepTiles({
    urls, maxTiles: Math.min(Number(d.maxTiles) || 0, 2000), maxBytes: Math.min(Number(d.maxBytes) || 0, 64 * 1024 * 1024), refresh: !!d.refresh,
  }))
  keeping = job.catch(() => {})
  e.waitUntil(job.then((r) => e.source?.postMessage({ type: 'tiles-kept', ...r })).catch(() => {}))
})

/** A kept tile from the cache (offline, or a weak signal: the map does not wait); others go to the network untouched. */
async function fromTiles(req) {
  const cache = await caches.open(TILES)
  const hit = await cache.match(req.url)
  if (hit) return hit
  return fetch(req)
}

async function thumb(req) {
  const cache = await caches.open(THUMBS)
  const hit = await cache.match(req)
  if (hit) return hit
  const res = await fetch(req)
  if (res.ok) {
    await cache.put(req, res.clone())
    const keys = await cache.keys()
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_THUMBS))) await cache.delete(k)
  }
  return res
}

self.addEventListener('fetch', (e) => {
  const req = e.request
  if (req.method !== 'GET') return
  const url = new URL(req.url)
  if (wanted.has(req.url) || (url.origin === location.origin && url.pathname.startsWith('/tiles/'))) {
    // After a restart of the worker `wanted` is empty: the cache itself says whether a tile is kept.
    e.respondWith(fromTiles(req))
    return
  }
  if (url.origin !== location.origin) {
    // A basemap tile kept for the grid (its address is the key), else the network as if no worker were here.
    e.respondWith(caches.open(TILES).then((c) => c.match(req.url)).then((hit) => hit ?? fetch(req)))
    return
  }
  if (THUMB_PATH.test(url.pathname)) {
    e.respondWith(thumb(req))
    return
  }
  if (req.mode === 'navigate' && url.pathname.startsWith('/m')) {
    // The shell from the cache at once (fast with a weak signal or none); a fresh copy for next time when online.
    e.respondWith((async () => {
      const cache = await caches.open(CACHE)
      const cached = await cache.match(SHELL)
      const fresh = fetchShell().then(async (res) => {
        if (res.ok) await cacheShell(res.clone()).catch(() => {})
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
