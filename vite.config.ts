import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin } from 'vite'

const api = `http://localhost:${process.env.PORT ?? 8080}`

/**
 * The big libraries each in a chunk of their own name, so that what a screen loads can be read off the file
 * names (tests/browser/page-chunks.test.ts): MapLibre for every map, deck.gl for the command map's highlights
 * only once there is something to highlight, terra-draw for the editor and the transfer area drawing.
 */
const vendorChunks = [
  // Not its stylesheet: that one is the entry's (web/src/main.tsx).
  { name: 'maplibre', test: /node_modules[\\/](maplibre-gl|pmtiles)[\\/](?!.*\.css$)/ },
  // With deck.gl, the small libraries only it uses: left to the chunk that imports deck.gl (the overlay),
  // they made an import cycle, and deck.gl's chunk ran before earcut was defined ("r is not a function").
  { name: 'deck', test: /node_modules[\\/](@deck\.gl|@luma\.gl|@loaders\.gl|@math\.gl|@probe\.gl|mjolnir\.js|earcut|@mapbox[\\/]tiny-sdf)[\\/]/ },
  { name: 'terra-draw', test: /node_modules[\\/]terra-draw/ },
]

/**
 * A .br and a .gz beside each script and stylesheet of the build, written once at build time (maximum
 * levels) and sent by the API's static files (serveStatic precompressed) and nginx (gzip_static): on a
 * slow phone line the field app's first screen is mostly these bytes (issue #19: 260 KB raw, 82 KB gzipped).
 */
function precompress(): Plugin {
  let outDir = ''
  return {
    name: 'gridwatch-precompress',
    apply: 'build',
    configResolved(c) { outDir = path.resolve(c.root, c.build.outDir) },
    closeBundle() {
      const dir = path.join(outDir, 'assets')
      if (!fs.existsSync(dir)) return
      for (const f of fs.readdirSync(dir)) {
        if (!/\.(js|css|svg|json)$/.test(f)) continue
        const raw = fs.readFileSync(path.join(dir, f))
        if (raw.length < 1024) continue
        fs.writeFileSync(path.join(dir, `${f}.gz`), zlib.gzipSync(raw, { level: 9 }))
        fs.writeFileSync(path.join(dir, `${f}.br`), zlib.brotliCompressSync(raw, {
          params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
        }))
      }
    },
  }
}

export default defineConfig({
  root: path.resolve(import.meta.dirname, 'web'),
  plugins: [react(), precompress()],
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1100,
    rolldownOptions: {
      // Two pages, two bundles: the desktop map (index.html) and the field app for phones (m/index.html, issue #19).
      input: { main: path.resolve(import.meta.dirname, 'web/index.html'), field: path.resolve(import.meta.dirname, 'web/m/index.html') },
      output: { codeSplitting: { groups: vendorChunks, includeDependenciesRecursively: false } },
    },
  },
  // The web app shares pure modules with the server (core/): allow the project root.
  server: { proxy: { '/api': api, '/tiles': api }, fs: { allow: [import.meta.dirname] } },
})
