import { useEffect, useRef, useState, type PointerEvent } from 'react'
import type { FieldMessages } from './i18n/index.ts'
import { keptTiles, type KeptTiles } from './kept-tiles.ts'
import { MARGIN_M, widen } from './tile-list.ts'
import type { Today } from './types.ts'

const W = 340
const H = 400
const riskColour = { red: '#c62828', yellow: '#b58900', green: '#2e7d32' }

/**
 * The grid drawn from the data the phone keeps (no map library): its outline,
 * households in 红黄绿, hazard sites, shelters, routes, and where the phone is;
 * under them what the kept map tiles add (kept-tiles.ts): the basemap when one
 * is configured, the grids around this one and households not on the worker's
 * list. Works offline; loaded only when the map tab opens. With `onPick` a tap
 * chooses a place (a report's), marked with a cross.
 */
export default function GridMap({ today, m, onPick, picked }: {
  today: Today; m: FieldMessages; onPick?(lng: number, lat: number): void; picked?: { lng: number; lat: number } | null
}) {
  const [here, setHere] = useState<{ lon: number; lat: number } | null>(null)
  useEffect(() => {
    if (!('geolocation' in navigator)) return
    const w = navigator.geolocation.watchPosition((p) => setHere({ lon: p.coords.longitude, lat: p.coords.latitude }), () => {}, { maximumAge: 60_000 })
    return () => navigator.geolocation.clearWatch(w)
  }, [])
  const [tiles, setTiles] = useState<KeptTiles | null>(null)
  const bboxKey = today.grid.bbox.join(',')
  useEffect(() => {
    let live = true
    keptTiles(today.grid.bbox, W).then((t) => live && setTiles(t), () => {})
    return () => { live = false }
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the box's numbers, not the array's identity
  }, [bboxKey])
  // The grid with the margin whose tiles are kept: the neighbours' edges show around it.
  const [w, s, e, n] = widen(today.grid.bbox, MARGIN_M)
  // Shelters and routes may lie outside the grid: the view holds them too.
  const xs = [w, e, ...today.shelters.map((x) => x.lon), ...today.hazards.map((x) => x.lon)]
  const ys = [s, n, ...today.shelters.map((x) => x.lat), ...today.hazards.map((x) => x.lat)]
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]
  const k = Math.cos(((y0 + y1) / 2) * Math.PI / 180)
  const scale = Math.min((W - 20) / Math.max((x1 - x0) * k, 1e-6), (H - 20) / Math.max(y1 - y0, 1e-6))
  const px = (lon: number, lat: number) => [10 + (lon - x0) * k * scale, H - 10 - (lat - y0) * scale] as const
  // The tap, back from screen to viewBox to lon/lat. Taken from the pointer where the finger lifted, not from the click
  // that follows: a phone moves a tap's click towards nearby marks (touch adjustment), a few pixels, tens of metres here.
  const down = useRef<{ id: number; x: number; y: number } | null>(null)
  const pressed = (e: PointerEvent<SVGSVGElement>) => { down.current = { id: e.pointerId, x: e.clientX, y: e.clientY } }
  const pick = (e: PointerEvent<SVGSVGElement>) => {
    const start = down.current
    down.current = null
    const ctm = e.currentTarget.getScreenCTM()
    // A drag (scrolling the page past the map) is not a tap.
    if (!onPick || !ctm || start?.id !== e.pointerId || Math.hypot(e.clientX - start.x, e.clientY - start.y) > 12) return
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(ctm.inverse())
    onPick(x0 + (p.x - 10) / (k * scale), y0 + (H - 10 - p.y) / scale)
  }
  const ring = (r: number[][]) => 'M' + r.map(([lo, la]) => px(lo, la).map((v) => v.toFixed(1)).join(',')).join('L') + 'Z'
  const mine = new Set(today.households.map((h) => h.id))
  // One clip a tile: a grid's piece is drawn inside its own tile.
  const clips = new Map([...new Set(tiles?.grids.map((g) => g.clip.join(',')))].map((c, i) => [c, `fa-tile-${i}`]))
  const outline = today.grid.outline.coordinates.flatMap((poly) => poly.map(ring)).join('')
  return (
    <figure className="fa-map" data-testid="grid-map">
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={today.grid.name} onPointerDown={onPick ? pressed : undefined} onPointerUp={onPick ? pick : undefined}
        data-testid={onPick ? 'grid-map-pick' : undefined} style={onPick ? { cursor: 'crosshair' } : undefined}>
        <rect width={W} height={H} fill="#f4f1ea" />
        {tiles?.raster.map((r) => {
          const [ax, ay] = px(r.box[0], r.box[3])
          const [bx, by] = px(r.box[2], r.box[1])
          return <image key={r.url} href={r.url} x={ax} y={ay} width={bx - ax} height={by - ay} preserveAspectRatio="none" data-testid="tile-raster" />
        })}
        <path d={outline} fill={tiles?.raster.length ? 'rgba(255,255,255,0.55)' : '#fff'} stroke="#1a237e" strokeWidth="2" />
        {tiles && (
          <defs>{[...clips].map(([c, id]) => {
            const b = c.split(',').map(Number)
            const [ax, ay] = px(b[0], b[3])
            const [bx, by] = px(b[2], b[1])
            return <clipPath key={c} id={id}><rect x={ax} y={ay} width={bx - ax} height={by - ay} /></clipPath>
          })}</defs>
        )}
        {tiles?.grids.filter((g) => g.code !== today.grid.code).map((g, i) => (
          <path key={`${g.code}-${i}`} d={g.rings.map(ring).join('')} fill="none" stroke="#78909c" strokeWidth="1.2"
            clipPath={`url(#${clips.get(g.clip.join(','))})`} data-testid="tile-grid" data-code={g.code} />
        ))}
        {tiles?.households.filter((h) => !mine.has(h.id)).map((h) => {
          const [x, y] = px(h.lon, h.lat)
          return <circle key={h.id} cx={x} cy={y} r="2.5" fill={riskColour[h.risk as keyof typeof riskColour] ?? '#757575'} opacity="0.45" data-testid="tile-household" />
        })}
        {today.routes.map((r) => (
          <polyline key={r.id} points={r.line.coordinates.map(([lo, la]) => px(lo, la).join(',')).join(' ')} fill="none" stroke="#1565c0" strokeWidth="2" strokeDasharray="6 4" />
        ))}
        {today.households.map((h) => {
          const [x, y] = px(h.lon, h.lat)
          return <circle key={h.id} cx={x} cy={y} r="4" fill={riskColour[h.risk]} stroke="#fff" strokeWidth="1" data-household={h.id} />
        })}
        {today.hazards.map((z) => {
          const [x, y] = px(z.lon, z.lat)
          return <path key={z.id} d={`M${x},${y - 8}L${x + 7},${y + 5}L${x - 7},${y + 5}Z`} fill="#e65100" stroke="#000" strokeWidth="1" />
        })}
        {today.shelters.map((z) => {
          const [x, y] = px(z.lon, z.lat)
          return <rect key={z.id} x={x - 6} y={y - 6} width="12" height="12" fill="#1565c0" stroke="#fff" strokeWidth="1.5" />
        })}
        {picked && (() => {
          const [x, y] = px(picked.lng, picked.lat)
          return <path d={`M${x - 9},${y - 9}L${x + 9},${y + 9}M${x - 9},${y + 9}L${x + 9},${y - 9}`} stroke="#d50000" strokeWidth="4" data-testid="grid-map-picked"
            data-lng={picked.lng} data-lat={picked.lat} />
        })()}
        {here && (() => {
          const [x, y] = px(here.lon, here.lat)
          return x >= 0 && x <= W && y >= 0 && y <= H ? <circle cx={x} cy={y} r="7" fill="#00b0ff" stroke="#fff" strokeWidth="3" aria-label={m.map.you} /> : null
        })()}
      </svg>
      <figcaption>{m.map.legend}</figcaption>
    </figure>
  )
}
