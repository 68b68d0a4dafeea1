/**
 * The simulated people of `npm run bench:peak` (scripts/bench-peak.ts), in a child process of their own so that the
 * orchestrator's work is not counted as theirs and their CPU can be read apart: grid workers sending 三查 ticks and
 * transfer statuses through the field app's outbox route, screens on the live feed, people panning the map, planners
 * exporting. Everything goes through nginx. One `run` message per run; the people's state (which items are ticked,
 * how far each household has moved) carries over from run to run. node:http with keep-alive (as bench/http-client.ts).
 */
import http from 'node:http'
import { randomUUID } from 'node:crypto'

export interface Worker {
  userId: number
  cookie: string
  csrf: string
  grid: string
  task: number
  items: boolean[]
  order: number
  /** Households of the order in the worker's grid, with the status each has now. */
  households: { id: number; status: string }[]
}
export interface Screen { cookie: string; scope: string }
export interface Panner { cookie: string; places: [number, number][] }
export interface Planner { cookie: string; units: string[] }
export interface Setup { type: 'setup'; workers: Worker[]; screens: Screen[]; panners: Panner[]; planners: Planner[] }
export interface RunRequest {
  type: 'run'; base: string; seconds: number; interval: number; label: string
  /** Screens are command walls (/screen): each also asks for the wall's figures as the wall does. */
  wall: boolean
}

export interface Kind { n: number; ok: number; errors: number; p50: number; p95: number; p99: number; max: number }
export interface RunReply {
  type: 'run'
  label: string
  seconds: number
  actions: Kind & { acked: number; conflicts: number; retried: number; gaveUp: number }
  tiles: Kind & { cached: number }
  wall: Kind
  exports: Kind & { busy: number; bytes: number }
  feed: { otherProcess: { n: number; p50: number; p95: number; p99: number }; any: { n: number; p50: number; p95: number; p99: number }; streams: number; reconnects: number; missing: number; missingDetail: string[] }
  errors: string[]
  /** Every write the server acknowledged as applied: checked against the database afterwards. */
  acked: { userId: number; id: string; kind: 'task.item' | 'evac.status'; task?: number; item?: number; done?: boolean; order?: number; household?: number; status?: string }[]
  perSecond: { t: number; actions: number; errors: number }[]
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4096 })
const next: Record<string, string> = { not_notified: 'notified', notified: 'moving', moving: 'at_shelter', at_shelter: 'returned' }

function pct(xs: number[], p: number) {
  if (!xs.length) return NaN
  const s = Float64Array.from(xs).sort()
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))]
}
function kind(ms: number[], errors: number): Kind {
  return { n: ms.length + errors, ok: ms.length, errors, p50: pct(ms, 50), p95: pct(ms, 95), p99: pct(ms, 99), max: ms.length ? Math.max(...ms) : NaN }
}

interface Answer { status: number; body: string; ms: number; upstream: string; headers: http.IncomingHttpHeaders; bytes: number }

/** One request; the body read to the end (an export counts its bytes, keeps none). */
function request(url: string, o: { method?: string; headers?: Record<string, string>; body?: string; keep?: boolean; timeoutMs?: number } = {}): Promise<Answer> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: o.method ?? 'GET', agent, headers: o.headers, timeout: o.timeoutMs ?? 120_000 }, (res) => {
      const chunks: Buffer[] = []
      let bytes = 0
      res.on('data', (c: Buffer) => {
        bytes += c.length
        if (o.keep !== false) chunks.push(c)
      })
      res.on('end', () => resolve({
        status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ms: performance.now() - t0, bytes,
        upstream: lastUpstream(res.headers['x-test-upstream']), headers: res.headers,
      }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(o.body)
  })
}
/** nginx names every process it tried ("a, b : c"): the last one answered. */
const lastUpstream = (h: string | string[] | undefined) => String(h ?? '').split(/\s*,\s*|\s+:\s+/).at(-1) ?? ''

let setup: Setup

/** Tile x/y of lon/lat at z. */
const tileOf = (lon: number, lat: number, z: number) => {
  const n = 2 ** z
  const r = (lat * Math.PI) / 180
  return [Math.floor(((lon + 180) / 360) * n), Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)]
}
/** The command map's layers and their zooms (api/README.md, Tiles). */
const LAYERS: [string, number, number][] = [
  ['admin', 0, 14], ['grids', 10, 16], ['households', 5, 16], ['hazards', 5, 16], ['shelters', 8, 16], ['rain', 5, 16], ['evac', 8, 16],
]

async function run(r: RunRequest): Promise<RunReply> {
  const end = performance.now() + r.seconds * 1000
  const running = () => performance.now() < end
  const errors: string[] = []
  const error = (what: string) => {
    if (errors.length < 200) errors.push(what)
  }
  const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms))
  /** A pause of the people's own, cut short by the run's end. */
  const nap = (ms: number) => sleep(Math.max(0, Math.min(ms, end - performance.now())))
  const perSecond = new Map<number, { actions: number; errors: number }>()
  const second = (field: 'actions' | 'errors') => {
    const t = Math.floor((r.seconds * 1000 - (end - performance.now())) / 1000)
    const s = perSecond.get(t) ?? { actions: 0, errors: 0 }
    s[field]++
    perSecond.set(t, s)
  }

  // The live feed: key of a change → its acknowledgements (time, process), and each stream's arrivals.
  const acks = new Map<string, { t: number; upstream: string }[]>()
  interface Stream {
    scope: string; cookie: string; upstream: string; arrivals: { key: string; t: number; upstream: string }[]; lastId?: string; req?: http.ClientRequest
    /** The wall's figures (web/src/wall/useWallState.ts): asked on every event, one at a time, at most once a second, and every 30 s. */
    wall: { busy: boolean; again: boolean; last: number; timer?: NodeJS.Timeout }
  }
  const wallMs: number[] = []
  let wallErrors = 0
  const askWall = (s: Stream) => {
    if (!running()) return
    const w = s.wall
    if (w.busy) return void (w.again = true)
    const wait = w.last + 1000 - performance.now()
    if (wait > 0) {
      clearTimeout(w.timer)
      w.timer = setTimeout(() => askWall(s), wait)
      return
    }
    w.busy = true
    w.last = performance.now()
    request(`${r.base}/api/wall/state?unit=${s.scope}`, { headers: { Cookie: s.cookie, 'Accept-Encoding': 'gzip' }, keep: false, timeoutMs: 60_000 })
      .then((a) => {
        if (a.status === 200) wallMs.push(a.ms)
        else {
          wallErrors++
          error(`wall state: HTTP ${a.status} via ${a.upstream}`)
        }
      }, (e: Error) => {
        wallErrors++
        error(`wall state: ${e.message}`)
      })
      .finally(() => {
        w.busy = false
        if (w.again) {
          w.again = false
          askWall(s)
        }
      })
  }
  const streams: Stream[] = []
  let reconnects = 0
  const keysOf = (event: string, data: string): string[] => {
    const d = JSON.parse(data) as Record<string, unknown>
    if (event === 'task.item') return [`t:${d.taskId}:${d.item}:${d.done}`]
    if (event === 'evac.status') return (d.households as number[]).map((h) => `e:${d.orderId}:${h}:${d.status}`)
    return []
  }
  const openStream = (s: Stream, screen: Screen) => {
    if (!running()) return
    const headers: Record<string, string> = { Cookie: screen.cookie, Accept: 'text/event-stream' }
    if (s.lastId) headers['Last-Event-ID'] = s.lastId
    const req = http.request(`${r.base}/api/events`, { agent, headers }, (res) => {
      if (res.statusCode !== 200) {
        error(`feed: ${res.statusCode}`)
        res.resume()
        res.on('end', () => setTimeout(() => openStream(s, screen), 2000))
        return
      }
      s.upstream = lastUpstream(res.headers['x-test-upstream'])
      if (wallScreens) askWall(s)
      let buf = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        const t = performance.now()
        buf += chunk
        let i: number
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i)
          buf = buf.slice(i + 2)
          let event = 'message'
          let data = ''
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7)
            else if (line.startsWith('data: ')) data += line.slice(6)
            else if (line.startsWith('id: ')) s.lastId = line.slice(4)
          }
          if (event === 'task.item' || event === 'evac.status') for (const key of keysOf(event, data)) s.arrivals.push({ key, t, upstream: s.upstream })
          if (wallScreens) askWall(s)
        }
      })
      // A stream cut (its process gone) or ended: reconnect as EventSource does (retry 2 s) with the last id seen.
      res.on('close', again)
      res.on('error', () => {})
    })
    let gone = false
    function again() {
      if (gone || !running()) return
      gone = true
      reconnects++
      setTimeout(() => openStream(s, screen), 2000)
    }
    req.on('error', again)
    s.req = req
    req.end()
  }
  const wallScreens = r.wall
  const wallEvery: NodeJS.Timeout[] = []
  for (const screen of setup.screens) {
    const s: Stream = { scope: screen.scope, cookie: screen.cookie, upstream: '', arrivals: [], wall: { busy: false, again: false, last: 0 } }
    streams.push(s)
    openStream(s, screen)
    if (wallScreens) wallEvery.push(setInterval(() => askWall(s), 30_000))
  }
  await sleep(1000) // the streams are open before the first write

  // Grid workers: one action every `interval` s each (±20%), first at a random moment; a failed send is sent again
  // with the same id after 2 s, as the phone's outbox does (the id makes it count once).
  const actionMs: number[] = []
  let actionErrors = 0
  let conflicts = 0
  let retried = 0
  let gaveUp = 0
  const acked: RunReply['acked'] = []
  const workerLoop = async (w: Worker) => {
    await nap(Math.random() * r.interval * 1000)
    let turn = Math.random() < 0.5 ? 0 : 1
    while (running()) {
      const at = new Date().toISOString()
      const h = w.households.find((x) => next[x.status])
      const a: Record<string, unknown> = turn++ % 2 === 0 || !h
        ? (() => {
            const item = w.items.findIndex((d) => !d) >= 0 ? w.items.findIndex((d) => !d) : Math.floor(Math.random() * w.items.length)
            return { id: randomUUID(), at, kind: 'task.item', task: w.task, item: item + 1, done: !w.items[item] }
          })()
        : { id: randomUUID(), at, kind: 'evac.status', order: w.order, household: h.id, from: h.status, status: next[h.status] }
      const body = JSON.stringify({ actions: [a] })
      for (let attempt = 0; ; attempt++) {
        let ans: Answer | null = null
        try {
          ans = await request(`${r.base}/api/field/sync`, {
            method: 'POST', body, timeoutMs: 30_000,
            headers: { 'Content-Type': 'application/json', Cookie: w.cookie, 'X-CSRF-Token': w.csrf },
          })
        } catch (e) {
          error(`action ${a.kind}: ${(e as Error).message}`)
        }
        const result = ans?.status === 200 ? (JSON.parse(ans.body).results[0] as { outcome: string; error?: { code: string } }) : null
        if (ans && result?.outcome === 'applied') {
          actionMs.push(ans.ms)
          second('actions')
          const key = a.kind === 'task.item' ? `t:${a.task}:${a.item}:${a.done}` : `e:${a.order}:${a.household}:${a.status}`
          const list = acks.get(key) ?? []
          list.push({ t: performance.now(), upstream: ans.upstream })
          acks.set(key, list)
          acked.push({ userId: w.userId, id: a.id as string, kind: a.kind as 'task.item', task: a.task as number, item: a.item as number, done: a.done as boolean, order: a.order as number, household: a.household as number, status: a.status as string })
          if (a.kind === 'task.item') w.items[(a.item as number) - 1] = a.done as boolean
          else h!.status = a.status as string
          break
        }
        actionErrors++
        second('errors')
        if (ans && ans.status !== 200) error(`action ${a.kind}: HTTP ${ans.status} via ${ans.upstream}: ${ans.body.slice(0, 160)}`)
        else if (result) {
          error(`action ${a.kind}: ${result.outcome} ${result.error?.code}`)
          if (result.outcome === 'conflict') conflicts++
          break // an answer from the server: final, the phone shows it
        }
        if (attempt >= 4) {
          gaveUp++
          break
        }
        retried++
        await sleep(2000)
        if (!running() && attempt >= 1) {
          gaveUp++
          break
        }
      }
      await nap(r.interval * 1000 * (0.8 + Math.random() * 0.4))
    }
  }

  // People panning the map: a view of 4×3 tiles of every layer shown at its zoom, then pans of one tile (the new
  // column or row), now and then a zoom in or out, 1–3 s apart; six requests at a time, as a browser over HTTP/1.1.
  const tileMs: number[] = []
  let tileErrors = 0
  let tileCached = 0
  const getTiles = async (p: Panner, urls: string[]) => {
    let i = 0
    await Promise.all(Array.from({ length: 6 }, async () => {
      while (i < urls.length && running()) {
        const u = urls[i++]
        try {
          const a = await request(r.base + u, { headers: { Cookie: p.cookie, 'Accept-Encoding': 'gzip' }, keep: false, timeoutMs: 30_000 })
          if (a.status === 200 || a.status === 204 || a.status === 304) {
            tileMs.push(a.ms)
            if (a.headers['x-cache-status'] === 'HIT') tileCached++
          } else {
            tileErrors++
            error(`tile ${u}: HTTP ${a.status}`)
          }
        } catch (e) {
          tileErrors++
          error(`tile ${u}: ${(e as Error).message}`)
        }
      }
    }))
  }
  const tilesAt = (z: number, xs: number[], ys: number[]) =>
    LAYERS.filter(([, lo, hi]) => z >= lo && z <= hi).flatMap(([l]) => xs.flatMap((x) => ys.map((y) => `/tiles/${l}/${z}/${x}/${y}.mvt`)))
  const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i)
  const pannerLoop = async (p: Panner) => {
    await nap(Math.random() * 3000)
    while (running()) {
      const [lon, lat] = p.places[Math.floor(Math.random() * p.places.length)]
      let z = 10 + Math.floor(Math.random() * 6)
      let [x, y] = tileOf(lon, lat, z)
      x -= 2
      y -= 1
      await getTiles(p, tilesAt(z, range(x, 4), range(y, 3)))
      for (let move = 0; move < 6 && running(); move++) {
        await nap(1000 + Math.random() * 2000)
        const d = Math.floor(Math.random() * 5)
        if (d === 4 && z < 15) {
          z++
          x = x * 2 + 2
          y = y * 2 + 1
          await getTiles(p, tilesAt(z, range(x, 4), range(y, 3)))
        } else if (d < 2) {
          x += d === 0 ? 1 : -1
          await getTiles(p, tilesAt(z, [d === 0 ? x + 3 : x], range(y, 3)))
        } else {
          y += d === 2 ? 1 : -1
          await getTiles(p, tilesAt(z, range(x, 4), [d === 2 ? y + 2 : y]))
        }
      }
    }
  }

  // Planners: a township's households (or grids) as a file, in turns of format, then 20–40 s looking at it; a 429
  // (every export place taken) is waited out as its Retry-After says, and counted apart.
  const exportMs: number[] = []
  let exportErrors = 0
  let busy = 0
  let exportBytes = 0
  const formats = ['csv', 'geojson', 'xlsx', 'gpkg']
  const plannerLoop = async (p: Planner, n: number) => {
    await nap(Math.random() * 10_000)
    let turn = n
    while (running()) {
      const unit = p.units[Math.floor(Math.random() * p.units.length)]
      const layer = turn % 3 === 2 ? 'grids' : 'households'
      const u = `/api/export/${layer}.${formats[turn++ % formats.length]}?unit=${unit}`
      try {
        const a = await request(r.base + u, { headers: { Cookie: p.cookie }, keep: false, timeoutMs: 300_000 })
        if (a.status === 200) {
          exportMs.push(a.ms)
          exportBytes += a.bytes
        } else if (a.status === 429) {
          busy++
          await nap(Number(a.headers['retry-after'] ?? 15) * 1000)
          continue
        } else {
          exportErrors++
          error(`export ${u}: HTTP ${a.status}`)
        }
      } catch (e) {
        exportErrors++
        error(`export ${u}: ${(e as Error).message}`)
      }
      await nap(20_000 + Math.random() * 20_000)
    }
  }

  await Promise.all([
    ...setup.workers.map(workerLoop),
    ...setup.panners.map(pannerLoop),
    ...setup.planners.map(plannerLoop),
    sleep(r.seconds * 1000),
  ])
  // The last events of the last writes: a moment to arrive, then the streams end.
  await sleep(2000)
  for (const s of streams) {
    s.req?.destroy()
    clearTimeout(s.wall.timer)
  }
  for (const t of wallEvery) clearInterval(t)

  // Feed delay: the n-th arrival of a key on a stream is the n-th acknowledgement of that key.
  const other: number[] = []
  const any: number[] = []
  let missing = 0
  const missingDetail: string[] = []
  const inScope = (scope: string, grid: string) => {
    const p = scope.endsWith('00000000') ? scope.slice(0, 4) : scope.endsWith('000000') ? scope.slice(0, 6) : scope.endsWith('000') ? scope.slice(0, 9) : scope
    return grid.startsWith(p)
  }
  const gridOfKey = new Map<string, string>()
  for (const w of setup.workers) {
    gridOfKey.set(`t:${w.task}`, w.grid)
    for (const h of w.households) gridOfKey.set(`e:${w.order}:${h.id}`, w.grid)
  }
  for (const s of streams) {
    const seen = new Map<string, number>()
    for (const a of s.arrivals) {
      const i = seen.get(a.key) ?? 0
      seen.set(a.key, i + 1)
      const ack = acks.get(a.key)?.[i]
      if (!ack) continue
      const d = a.t - ack.t
      any.push(d)
      if (ack.upstream !== a.upstream) other.push(d)
    }
    // Every acknowledged change in the stream's area reached it (after a reconnection too, by Last-Event-ID).
    for (const [key, list] of acks) {
      const parts = key.split(':')
      const grid = gridOfKey.get(parts[0] === 't' ? `t:${parts[1]}` : `e:${parts[1]}:${parts[2]}`)
      if (!grid || !inScope(s.scope, grid)) continue
      const got = seen.get(key) ?? 0
      if (got < list.length) {
        missing += list.length - got
        if (missingDetail.length < 20) missingDetail.push(`${key} on a ${s.scope} screen (${got} of ${list.length})`)
      }
    }
  }
  const stat = (xs: number[]) => ({ n: xs.length, p50: pct(xs, 50), p95: pct(xs, 95), p99: pct(xs, 99) })
  return {
    type: 'run', label: r.label, seconds: r.seconds,
    actions: { ...kind(actionMs, actionErrors), acked: acked.length, conflicts, retried, gaveUp },
    tiles: { ...kind(tileMs, tileErrors), cached: tileCached },
    wall: kind(wallMs, wallErrors),
    exports: { ...kind(exportMs, exportErrors), busy, bytes: exportBytes },
    feed: { otherProcess: stat(other), any: stat(any), streams: streams.length, reconnects, missing, missingDetail },
    errors,
    acked,
    perSecond: [...perSecond].sort((a, b) => a[0] - b[0]).map(([t, s]) => ({ t, ...s })),
  }
}

process.on('message', (msg: Setup | RunRequest) => {
  if (msg.type === 'setup') {
    setup = msg
    process.send!({ type: 'setup' })
    return
  }
  run(msg).then((reply) => process.send!(reply), (e: Error) => process.send!({ type: 'failed', message: e.stack }))
})
