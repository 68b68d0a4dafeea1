import { chromium } from 'playwright-core'
const url = process.argv[2], out = process.argv[3], zoom = process.argv[4]
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] })
const p = await b.newPage({ viewport: { width: 1366, height: 768 } })
const errors: string[] = []
p.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()) }); p.on('pageerror', (e) => errors.push(String(e)))
const t0 = Date.now()
await p.goto(url)
await p.waitForFunction(() => (window as any).map?.areTilesLoaded?.() && (window as any).map?.isStyleLoaded?.(), null, { timeout: 30000 }).catch((e) => console.log('wait failed', e.message.slice(0, 80)))
console.log('map drawn after', Date.now() - t0, 'ms')
if (zoom) { await p.evaluate((z) => (window as any).map.jumpTo({ zoom: Number(z) }), zoom); await p.waitForTimeout(500); await p.waitForFunction(() => (window as any).map.areTilesLoaded(), null, { timeout: 60000 }) }
await p.waitForTimeout(800)
await p.screenshot({ path: out })
console.log('errors', errors)
await b.close()
