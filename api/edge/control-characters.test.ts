import { describe, expect, it } from 'vitest'
import { findControlCharacter, findInNames, findInText } from './control-characters.ts'

describe('control characters', () => {
  it('finds a NUL or escape in any string or key of a JSON value, naming the field', () => {
    expect(findControlCharacter({ username: 'ad\u0000min' })).toEqual({ field: 'username', char: 'U+0000' })
    expect(findControlCharacter({ items: [{ note: 'ok' }, { note: 'a\u001b[31m' }] })).toEqual({ field: 'items.1.note', char: 'U+001B' })
    expect(findControlCharacter({ ['k\u0007']: 1 })).toEqual({ field: 'k\u0007', char: 'U+0007' })
    expect(findControlCharacter('\u007f')).toEqual({ field: '(body)', char: 'U+007F' })
  })

  it('lets text keep line breaks and tabs, and numbers, booleans and null through', () => {
    expect(findControlCharacter({ note: '第一行\r\n第二行\t完', n: 3, b: true, z: null, a: [1, 'x'] })).toBeNull()
  })

  it('names the line of a control character in a text upload', () => {
    expect(findInText('station,hour,mm\nS1,2026,1\nS\u00002,2026,1\n')).toEqual({ field: 'line 3', char: 'U+0000' })
    expect(findInText('a,b\r\nc,d\r\n')).toBeNull()
  })

  it('refuses every control character, tab and line feed too, in paths and query parameters', () => {
    expect(findInNames('/api/units/5306\u0000', {})).toEqual({ field: '(path)', char: 'U+0000' })
    expect(findInNames('/api/tasks', { unit: ['53\n'] })).toEqual({ field: 'unit', char: 'U+000A' })
    expect(findInNames('/api/tasks', { unit: ['530602000000'], status: ['open'] })).toBeNull()
  })
})
