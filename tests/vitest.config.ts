import path from 'node:path'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  root: path.resolve(import.meta.dirname, '..'),
  test: {
    include: ['tests/**/*.test.ts', 'core/**/*.test.ts'],
    globalSetup: ['tests/helpers/databases.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    // Two cores: database suites share one embedded server and one PostGIS.
    fileParallelism: false,
  },
})
