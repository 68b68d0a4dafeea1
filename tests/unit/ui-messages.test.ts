import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { projectRoot } from '../../core/config.ts'
import { en } from '../../web/src/i18n/en.ts'
import { format, lookup } from '../../web/src/i18n/index.tsx'
import { zh } from '../../web/src/i18n/zh.ts'

const webSrc = path.join(projectRoot, 'web', 'src')
// Chinese that is data, not UI text: the danger levels the tiles carry and the map matches on.
const dataValues = Object.keys(zh.dangerLevels)

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) return p.endsWith(`${path.sep}i18n`) ? [] : sources(p)
    // A test's fixtures (a householder's name) are data, not UI text.
    return /\.(ts|tsx)$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [p] : []
  })
}

function leaves(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : leaves(v, `${prefix}${k}.`)))
}

describe('UI messages', () => {
  it('has no Chinese text outside the message files', () => {
    const offenders: string[] = []
    for (const file of sources(webSrc)) {
      fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        const code = line.replace(/\/\/.*$|\/\*.*?\*\/|^\s*\*.*$/g, '')
        const rest = dataValues.reduce((s, v) => s.replaceAll(`'${v}'`, ''), code)
        if (/\p{Script=Han}/u.test(rest)) offenders.push(`${path.relative(projectRoot, file)}:${i + 1}: ${line.trim()}`)
      })
    }
    expect(offenders).toEqual([])
  })

  it('has the same keys and placeholders in Chinese and English', () => {
    expect(leaves(en).sort()).toEqual(leaves(zh).sort())
    for (const key of leaves(zh)) {
      const vars = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
      expect(vars(lookup(en, key)!), key).toEqual(vars(lookup(zh, key)!))
    }
  })

  it('has no Chinese in the English messages, except the data values they translate', () => {
    const han = leaves(en).filter((k) => /\p{Script=Han}/u.test(lookup(en, k)!) && k !== 'switchLanguage')
    expect(han).toEqual([])
  })

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(format('{n} 户', { n: 3 })).toBe('3 户')
    expect(format('{a} / {b}', { a: 1 })).toBe('1 / {b}')
    expect(lookup(zh, 'record.visitEvery.red')).toBe('每日')
    expect(lookup(zh, 'record.nothing')).toBeUndefined()
    expect(lookup(zh, 'record')).toBeUndefined()
  })
})
