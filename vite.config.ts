import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin, type UserConfig } from 'vite'
import { viteSingleFile } from 'vite-plugin-singlefile'

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
function precompress(subdir: string, files: RegExp): Plugin {
  let outDir = ''
  return {
    name: 'gridwatch-precompress',
    apply: 'build',
    configResolved(c) { outDir = path.resolve(c.root, c.build.outDir) },
    closeBundle() {
      const dir = path.join(outDir, subdir)
      if (!fs.existsSync(dir)) return
      for (const f of fs.readdirSync(dir)) {
        if (!files.test(f)) continue
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

const root = path.resolve(import.meta.dirname, 'web')

/**
 * The field app (`vite build --mode field`, after the desktop build): one page with its scripts and styles
 * inside, web/dist/m/index.html. On a phone's slow line every request is a round trip of about 2 s before its
 * first byte; scripts named by the page cost a second one after the page's own (issue #19: 6.3–6.5 s on
 * Chromium's slow 3G, 2 s of it that wait). Inside the page they come with it. Its lazy parts (the grid's map,
 * the report form) come inside too: a chunk loaded later would bring a second React.
 */
const fieldApp: UserConfig = {
  root,
  plugins: [react(), viteSingleFile({ removeViteModuleLoader: true }), precompress('m', /^index\.html$/)],
  // The desktop build has written web/public (the service worker, the manifest) and must stay.
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    rolldownOptions: { input: { field: path.resolve(root, 'm/index.html') } },
  },
}

export default defineConfig(({ mode }) => mode === 'field' ? fieldApp : {
  root,
  plugins: [react(), precompress('assets', /\.(js|css|svg|json)$/)],
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1100,
    rolldownOptions: {
      // The desktop map; the field app for phones is built apart (fieldApp above).
      input: { main: path.resolve(root, 'index.html') },
      output: { codeSplitting: { groups: vendorChunks, includeDependenciesRecursively: false } },
    },
  },
  // The web app shares pure modules with the server (core/): allow the project root.
  server: { proxy: { '/api': api, '/tiles': api }, fs: { allow: [import.meta.dirname] } },
})
