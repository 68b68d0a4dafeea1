import fs from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = path.resolve(import.meta.dirname, '../..')
const floors = ['core', 'db', 'tiles', 'data', 'api', 'web/src', 'scripts', 'tests']

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'fixtures' ? [] : sources(p)
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : []
  })
}

/** Each source file's imports of our own files (types too: a circle of types still ties the modules together). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of floors.flatMap((f) => sources(path.join(root, f)))) {
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true)
    graph.set(path.relative(root, file), importedFiles
      .filter((i) => i.fileName.startsWith('.'))
      .map((i) => path.relative(root, path.resolve(path.dirname(file), i.fileName))))
  }
  return graph
}

/** The import circles, each as the files along it (Tarjan's strongly connected components). */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], onStack = new Set<string>(), out: string[][] = []
  const visit = (v: string) => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const part: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        part.push(w)
      } while (w !== v)
      if (part.length > 1 || graph.get(v)?.includes(v)) out.push(part.sort())
    }
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return out
}

describe('imports', () => {
  it('run in no circle (ARCHITECTURE.md: a module that needs another’s type or label takes it from a third)', () => {
    const graph = importGraph()
    expect(graph.size).toBeGreaterThan(200)
    expect(circles(graph)).toEqual([])
  })

  it('are found: a planted circle is reported', () => {
    expect(circles(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]))).toEqual([['a.ts', 'b.ts', 'c.ts']])
  })
})

/** Lines of a source that run SQL: a tagged template on sql or tx, or sql.unsafe. */
const sqlLines = (text: string) =>
  text.split('\n').flatMap((line, i) => (/\b(sql|tx|q)(<.*>)?`|\.unsafe\(/.test(line.replace(/\/\/.*$/, '')) ? [`${i + 1}: ${line.trim()}`] : []))

describe('routes', () => {
  it('hold no SQL: a route parses, calls a feature function (sql, user, input), answers (ARCHITECTURE.md)', () => {
    const dir = path.join(root, 'api', 'routes')
    const found = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))
      .flatMap((f) => sqlLines(fs.readFileSync(path.join(dir, f), 'utf8')).map((l) => `api/routes/${f}:${l}`))
    expect(found).toEqual([])
  })

  it('SQL is recognised: a planted query is reported', () => {
    expect(sqlLines('const a = 1\n  const [r] = await sql`SELECT 1`\n  tx.unsafe(x)\n  const [p] = await sql<{ n: number }[]>`SELECT 2`'))
      .toEqual(['2: const [r] = await sql`SELECT 1`', '3: tx.unsafe(x)', '4: const [p] = await sql<{ n: number }[]>`SELECT 2`'])
  })
})
