import { crc32 } from 'node:zlib'
import { PNG } from 'pngjs'
import { describe, expect, it } from 'vitest'
import { dpiOf, withDpi } from './png-dpi.ts'

const png = (w = 3, h = 2) => {
  const p = new PNG({ width: w, height: h })
  for (let i = 0; i < p.data.length; i++) p.data[i] = (i * 37) % 256
  return PNG.sync.write(p)
}
const chunks = (b: Buffer) => {
  const out: { type: string; crcOk: boolean }[] = []
  for (let at = 8; at < b.length;) {
    const len = b.readUInt32BE(at)
    out.push({ type: b.toString('latin1', at + 4, at + 8), crcOk: crc32(b.subarray(at + 4, at + 8 + len)) === b.readUInt32BE(at + 8 + len) })
    at += 12 + len
  }
  return out
}

describe('a PNG that says its dpi', () => {
  it('declares 300 dpi in a pHYs chunk right after IHDR, with a right CRC, the image unchanged', () => {
    const before = png()
    expect(dpiOf(before)).toBeNull()
    const after = withDpi(before, 300)
    expect(dpiOf(after)).toBe(300)
    expect(chunks(after).map((c) => c.type).slice(0, 2)).toEqual(['IHDR', 'pHYs'])
    expect(chunks(after).every((c) => c.crcOk)).toBe(true)
    // 300 dpi = 11811 pixels a metre, the same both ways, unit metre.
    const at = 33
    expect([after.readUInt32BE(at + 8), after.readUInt32BE(at + 12), after.readUInt8(at + 16)]).toEqual([11811, 11811, 1])
    const a = PNG.sync.read(before)
    const b = PNG.sync.read(after)
    expect([b.width, b.height]).toEqual([a.width, a.height])
    expect(b.data.equals(a.data)).toBe(true)
  })
  it('replaces a pHYs it already had, keeping one', () => {
    const twice = withDpi(withDpi(png(), 72), 300)
    expect(chunks(twice).filter((c) => c.type === 'pHYs')).toHaveLength(1)
    expect(dpiOf(twice)).toBe(300)
  })
  it('refuses what is not a PNG', () => {
    expect(() => withDpi(Buffer.from('%PDF-1.7 not a png at all, no, not at all'), 300)).toThrow(/not a PNG/)
    expect(() => withDpi(Buffer.alloc(10), 300)).toThrow(/not a PNG/)
  })
})
