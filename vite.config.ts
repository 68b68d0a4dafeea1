import path from 'node:path'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const api = `http://localhost:${process.env.PORT ?? 8080}`

export default defineConfig({
  root: path.resolve(import.meta.dirname, 'web'),
  plugins: [react()],
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 4000 },
  // The web app shares pure modules with the server (api/auth/policy.ts): allow the project root.
  server: { proxy: { '/api': api, '/tiles': api }, fs: { allow: [import.meta.dirname] } },
})
