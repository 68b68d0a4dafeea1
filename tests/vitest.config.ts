import path from 'node:path'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  root: path.resolve(import.meta.dirname, '..'),
  test: {
    // Rules and small modules keep their tests beside them.
    include: ['tests/**/*.test.ts', '{core,db,api,tiles,data,web}/**/*.test.ts'],
    globalSetup: ['tests/helpers/databases.ts'],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    // Two cores: database suites share one embedded server and one PostGIS.
    fileParallelism: false,
    // A page's answer to a click is a request and a render: on two busy cores that takes seconds, not the 1 s default.
    expect: { poll: { timeout: 15_000, interval: 100 } },
  },
})
