import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sql } from '../../db/connect.ts'
import { transaction } from '../../db/transaction.ts'
import { checkCover } from '../../api/grid-editor/cover-problems.ts'
import type { Cover, CoverGrid, Geo } from '../../api/grid-editor/cover.ts'
import { areal, operation } from '../../api/grid-editor/input.ts'
import { apply } from '../../api/grid-editor/preview.ts'
import { HttpError } from '../../core/errors.ts'
import { client, targets } from '../helpers/targets.ts'

/**
 * Fixture-driven: tests/fixtures/covers/checks/ holds proposed covers as drawn
 * (judged as they are: valid geometry, inside the village, no overlap, gaps),
 * operations/ holds changes to a four-grid village (judged after the server
 * has applied them: a valid cover, or the 4xx the input deserves). Each file
 * says what it expects; adding a case is adding a file.
 */
const dir = path.join(import.meta.dirname, '../fixtures/covers')
type Feature = { properties: { role: string; code: string; kind?: 'basic' | 'micro'; parent?: string }; geometry: unknown }
interface Fixture {
  description: string
  operation?: unknown
  expect: {
    valid?: boolean; problems?: string[]; error?: string; status?: number; code?: string
    basic?: number; changed?: string[]; added?: number; removed?: string[]
  }
  features: Feature[]
}
const load = (sub: string) =>
  fs.readdirSync(path.join(dir, sub)).filter((f) => f.endsWith('.geojson')).sort()
    .map((f) => [f, JSON.parse(fs.readFileSync(path.join(dir, sub, f), 'utf8')) as Fixture] as const)

/** The cover a fixture describes; null when a grid's geometry is not GeoJSON the API would accept. */
function coverOf(fx: Fixture): Cover | null {
  const village = fx.features.find((f) => f.properties.role === 'village')!
  const grids: CoverGrid[] = []
  for (const f of fx.features.filter((f) => f.properties.role === 'grid')) {
    if (!areal.safeParse(f.geometry).success) return null
    const p = f.properties
    grids.push({ key: p.code, code: p.code, name: p.code, kind: p.kind ?? 'basic', parent: p.parent ?? null, geom: f.geometry as Geo })
  }
  return { village: { id: 0, code: village.properties.code, name: '测试村', geom: village.geometry as Geo }, version: 0, grids }
}

const checks = load('checks')
const operations = load('operations')

it('has fixtures of both kinds, valid and invalid', () => {
  expect(checks.filter(([, f]) => f.expect.valid).length).toBeGreaterThanOrEqual(3)
  expect(checks.filter(([, f]) => !f.expect.valid).length).toBeGreaterThanOrEqual(6)
  expect(operations.filter(([, f]) => f.expect.status).length).toBeGreaterThanOrEqual(4)
})

for (const target of targets()) {
  describe(`cover fixtures on ${target.name}`, () => {
    let sql: Sql
    beforeAll(() => {
      sql = client(target.url)
    })
    afterAll(() => sql.end())

    for (const [file, fx] of checks) {
      it(`checks/${file}: ${fx.description}`, async () => {
        const cover = coverOf(fx)
        if (!cover) {
          expect(fx.expect.error).toBe('bad_geojson')
          return
        }
        expect(fx.expect.error).toBeUndefined()
        const problems = await checkCover(sql, cover.village.geom, cover.grids)
        const codes = [...new Set(problems.map((p) => p.code))].sort()
        expect({ valid: problems.length === 0, problems: codes }).toEqual({ valid: fx.expect.valid, problems: fx.expect.problems })
        for (const p of problems) {
          expect(p.zh).toMatch(/[\u4e00-\u9fff]/)
          expect(p.en).toMatch(/[a-z]/)
        }
      })
    }

    for (const [file, fx] of operations) {
      it(`operations/${file}: ${fx.description}`, async () => {
        const cover = coverOf(fx)!
        const op = operation.parse(fx.operation)
        const outcome = await transaction(sql, async (tx) => {
          await tx`SET LOCAL jit = off`
          return apply(tx, cover, op)
        })
          .catch((e) => {
            if (e instanceof HttpError) return e
            throw e
          })
        if (fx.expect.status) {
          expect(outcome).toBeInstanceOf(HttpError)
          const e = outcome as HttpError
          expect({ status: e.status, code: e.code }).toEqual({ status: fx.expect.status, code: fx.expect.code })
          expect(e.zh).toMatch(/[\u4e00-\u9fff]/)
          return
        }
        expect(outcome).not.toBeInstanceOf(HttpError)
        const r = outcome as Awaited<ReturnType<typeof apply>>
        // After any change the result is itself a valid cover, micro-grids included.
        expect(await checkCover(sql, cover.village.geom, r.grids)).toEqual([])
        const basic = r.grids.filter((g) => g.kind === 'basic')
        expect(basic).toHaveLength(fx.expect.basic!)
        const before = new Set(cover.grids.map((g) => g.key))
        if (fx.expect.added !== undefined) expect(basic.filter((g) => !before.has(g.key))).toHaveLength(fx.expect.added)
        if (fx.expect.removed) {
          expect(cover.grids.filter((g) => g.kind === 'basic' && !basic.some((b) => b.key === g.key)).map((g) => g.key)).toEqual(fx.expect.removed)
        }
        if (fx.expect.changed) expect([...r.changed].filter((k) => before.has(k)).sort()).toEqual(fx.expect.changed)
        // Every basic grid has at least one micro-grid, each inside it (checked above).
        for (const b of basic) expect(r.grids.some((m) => m.kind === 'micro' && m.parent === b.key), b.key).toBe(true)
      })
    }
  })
}
