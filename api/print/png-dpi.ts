import { crc32 } from 'node:zlib'

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/**
 * The PNG with its resolution declared (a pHYs chunk, pixels per metre) right
 * after IHDR, replacing one it had: a planner's 300 dpi sheet then opens in
 * GIS and layout tools at its printed size, not at 72 or 96 dpi. Chromium's
 * screenshots carry none.
 */
export function withDpi(png: Buffer, dpi: number): Buffer {
  if (png.length < 33 || !png.subarray(0, 8).equals(SIGNATURE) || png.toString('latin1', 12, 16) !== 'IHDR') {
    throw new Error('not a PNG')
  }
  const perMetre = Math.round(dpi / 0.0254)
  const data = Buffer.alloc(9)
  data.writeUInt32BE(perMetre, 0)
  data.writeUInt32BE(perMetre, 4)
  data.writeUInt8(1, 8) // the unit is the metre
  const chunk = Buffer.alloc(12 + data.length)
  chunk.writeUInt32BE(data.length, 0)
  chunk.write('pHYs', 4, 'latin1')
  data.copy(chunk, 8)
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length)
  // Chunks after IHDR, less any pHYs already there.
  const rest: Buffer[] = []
  for (let at = 33; at < png.length;) {
    const len = png.readUInt32BE(at)
    const end = at + 12 + len
    if (png.toString('latin1', at + 4, at + 8) !== 'pHYs') rest.push(png.subarray(at, end))
    at = end
  }
  return Buffer.concat([png.subarray(0, 33), chunk, ...rest])
}

/** The declared resolution of a PNG in dots per inch, or null when it declares none (or not per metre). */
export function dpiOf(png: Buffer): number | null {
  for (let at = 8; at < png.length;) {
    const len = png.readUInt32BE(at)
    const type = png.toString('latin1', at + 4, at + 8)
    if (type === 'pHYs' && png.readUInt8(at + 16) === 1) return Math.round(png.readUInt32BE(at + 8) * 0.0254)
    if (type === 'IDAT') return null
    at += 12 + len
  }
  return null
}
