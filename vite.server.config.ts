import path from 'node:path'
import { defineConfig, type Plugin } from 'vite'

/**
 * The server, compiled to plain JavaScript for production (`npm run build` → dist/server/*.mjs, run by plain
 * `node`, no tsx, no Vite). Packages stay imports (they are the "dependencies" of package.json, installed by
 * `npm ci --omit=dev`); only our own TypeScript is bundled.
 */
const root = import.meta.dirname
export const serverOutDir = path.join(root, 'dist', 'server')

/**
 * Our modules find files beside them through `import.meta.url` (data/migrations/, data/storms/, the project root in
 * core/config.ts). Bundled, every module would share the bundle's URL; each gets back its own source file's URL, as a
 * path from the bundle, so the built server reads the checkout's migrations exactly as `npm start` does.
 */
function sourceModuleUrls(): Plugin {
  // The folder actually built into (a test builds into a temporary one).
  let outDir = serverOutDir
  return {
    name: 'gridwatch-source-module-urls',
    configResolved(c) {
      outDir = path.resolve(c.root, c.build.outDir)
    },
    transform(code, id) {
      if (!id.startsWith(root + path.sep) || id.includes(`${path.sep}node_modules${path.sep}`) || !code.includes('import.meta.')) return
      if (/import\.meta\.(dirname|filename)/.test(code)) this.error(`${id}: use import.meta.url (the production build rewrites it), not dirname/filename`)
      const fromBundle = path.relative(outDir, id).split(path.sep).join('/')
      return { code: code.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`), map: null }
    },
  }
}

export default defineConfig({
  root,
  plugins: [sourceModuleUrls()],
  // Every package is left to node_modules at run time, as Node would load it.
  ssr: { target: 'node', external: true },
  build: {
    ssr: true,
    outDir: serverOutDir,
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: true,
    copyPublicDir: false,
    rolldownOptions: {
      // The API processes, and the account command (the first admin) for a machine without tsx.
      input: { main: path.join(root, 'scripts/serve-prod.ts'), user: path.join(root, 'scripts/user.ts') },
      output: { format: 'es', entryFileNames: '[name].mjs', chunkFileNames: '[name]-[hash].mjs' },
    },
  },
})
