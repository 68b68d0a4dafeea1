import js from '@eslint/js'
import reactHooks from 'eslint-plugin-react-hooks'
import tseslint from 'typescript-eslint'

/**
 * The floors (ARCHITECTURE.md): each may import its own files and the floors
 * named here, nothing else of ours. scripts/ and tests/ stand on everything.
 */
const floors = {
  core: [],
  db: ['core'],
  tiles: ['core', 'db'],
  data: ['core', 'db'],
  api: ['core', 'db', 'tiles', 'data'],
  web: ['core'],
}
const ours = ['core', 'db', 'tiles', 'data', 'api', 'web', 'scripts', 'tests']

/** Frameworks and drivers a floor must not know: core is plain TypeScript, only api/ speaks HTTP, the browser has no database. */
const server = ['postgres', '@electric-sql/*', 'node:*']
const ui = ['react', 'react-dom', 'react/*', 'react-dom/*', 'maplibre-gl', 'deck.gl', '@deck.gl/*', 'terra-draw', 'terra-draw-*']
const http = ['hono', 'hono/*', '@hono/*']
const bannedPackages = {
  // core/config.ts and core/log.ts read the environment and the console (node:path, node:url, node:async_hooks, pino): the only Node they need.
  core: [...http, ...ui, 'postgres', '@electric-sql/*', 'zod'],
  db: [...http, ...ui],
  tiles: [...http, ...ui],
  data: [...http, ...ui],
  api: [...ui],
  web: [...http, ...server],
}
/** Node-only modules of core the browser must not pull in. */
const nodeOnlyCore = ['config', 'log']

/**
 * An import is written relative to its file, so where it leads depends on
 * how deep the file sits: from tiles/a.ts `../api/x.ts` leaves the floor, from
 * web/src/map/a.ts it takes `../../../api/x.ts`. One rule set per floor and
 * depth, each naming the floors its files may not reach.
 */
function floorRules(floor, depth) {
  const up = `^(\\.\\./){${depth}}`
  const barred = ours.filter((f) => f !== floor && !floors[floor].includes(f))
  const patterns = [
    {
      regex: `${up}(${barred.join('|')})/`,
      message: floors[floor].length ? `${floor}/ imports only from ${floors[floor].map((f) => `${f}/`).join(', ')} (ARCHITECTURE.md).` : `${floor}/ imports nothing outside itself (ARCHITECTURE.md).`,
    },
    { group: bannedPackages[floor], message: `${floor}/ does not use this framework or driver (ARCHITECTURE.md).` },
  ]
  if (floor === 'web') patterns.push({ regex: `${up}core/(${nodeOnlyCore.join('|')})\\.ts$`, message: 'Node-only: the browser cannot load it.' })
  return {
    files: [`${floor}/${'*/'.repeat(depth - 1)}*.{ts,tsx}`],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  }
}

export default tseslint.config(
  { ignores: ['node_modules/', 'web/dist/', 'dist/', '.gridwatch-data/', 'bench/', 'tests/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `{ id: _id, ...rest }` drops a field on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Chinese text spaces with U+3000 on purpose.
      'no-irregular-whitespace': ['error', { skipJSXText: true, skipStrings: true, skipTemplates: true }],
    },
  },
  {
    // The rules of hooks. (The plugin's React Compiler rules — refs read in render, setState in effects — are
    // not on: the app is not compiled by it, and they would ask for rewrites of components, not fixes.)
    files: ['web/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    // postgres.js 3.4.9's sql.begin can send BEGIN behind other queries without reserving the connection (issue #21).
    files: ['{api,db,data,tiles,scripts}/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: "CallExpression[callee.type='MemberExpression'][callee.property.name='begin']",
        message: 'Use transaction() from db/transaction.ts (or writeTx): sql.begin can leave a pooled connection in a transaction (issue #21).',
      }],
    },
  },
  ...Object.keys(floors).flatMap((floor) => [1, 2, 3, 4, 5, 6].map((depth) => floorRules(floor, depth))),
)
