import { HttpError } from '../../core/errors.ts'

/** A photo's largest size in bytes: a 1600 px JPEG the phone made is 200–600 KB. */
export const PHOTO_MAX_BYTES = 2 * 1024 * 1024
/** Its largest side in pixels: the phone shrinks to 1600; more is refused before anyone decodes it. */
export const PHOTO_MAX_SIDE = 4096

export type ImageType = 'image/jpeg' | 'image/png' | 'image/webp'
export interface ImageInfo { mime: ImageType; width: number; height: number }

const bad = (zh: string, en: string) => new HttpError(400, 'bad_photo', `照片无效：${zh}`, `not a usable photo: ${en}`)

/** JPEG: the size is in the first start-of-frame segment; the markers before it are walked by their lengths. */
function jpegSize(b: Buffer): { width: number; height: number } | null {
  let i = 2
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null
    const marker = b[i + 1]
    if (marker === 0xff) { i++; continue } // fill byte
    // Markers with no segment after them.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { i += 2; continue }
    if (marker === 0xd9) return null // end of image before any frame
    const len = b.readUInt16BE(i + 2)
    if (len < 2) return null
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
    if (sof) {
      if (i + 9 > b.length) return null
      return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) }
    }
    i += 2 + len
  }
  return null
}

function webpSize(b: Buffer): { width: number; height: number } | null {
  const chunk = b.toString('latin1', 12, 16)
  if (chunk === 'VP8 ' && b.length >= 30) {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null
    return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff }
  }
  if (chunk === 'VP8L' && b.length >= 25) {
    if (b[20] !== 0x2f) return null
    const bits = b.readUInt32LE(21)
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 }
  }
  if (chunk === 'VP8X' && b.length >= 30) return { width: b.readUIntLE(24, 3) + 1, height: b.readUIntLE(27, 3) + 1 }
  return null
}

/**
 * What a photo is, by its own bytes (never by a name or a declared type):
 * JPEG, PNG or WebP with sane dimensions, or a 400 / 413 saying what is wrong
 * in Chinese and English.
 */
export function inspectImage(b: Buffer): ImageInfo {
  if (b.length > PHOTO_MAX_BYTES) {
    throw new HttpError(413, 'photo_too_large', `照片过大（${(b.length / 1048576).toFixed(1)} MB，上限 2 MB）`, `photo too large (${(b.length / 1048576).toFixed(1)} MB, at most 2 MB)`)
  }
  let mime: ImageType
  let size: { width: number; height: number } | null
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    mime = 'image/jpeg'
    size = jpegSize(b)
  } else if (b.length >= 24 && b.toString('latin1', 0, 8) === '\x89PNG\r\n\x1a\n' && b.toString('latin1', 12, 16) === 'IHDR') {
    mime = 'image/png'
    size = { width: b.readUInt32BE(16), height: b.readUInt32BE(20) }
  } else if (b.length >= 16 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') {
    mime = 'image/webp'
    size = webpSize(b)
  } else {
    throw bad('只接受 JPEG、PNG 或 WebP 图片', 'only JPEG, PNG or WebP images are taken')
  }
  if (!size) throw bad('图片文件不完整或已损坏', 'the image file is cut short or damaged')
  if (size.width < 1 || size.height < 1 || size.width > PHOTO_MAX_SIDE || size.height > PHOTO_MAX_SIDE) {
    throw bad(`尺寸 ${size.width}×${size.height} 不在 1–${PHOTO_MAX_SIDE} 像素之内`, `size ${size.width}×${size.height} is not within 1–${PHOTO_MAX_SIDE} pixels`)
  }
  return { mime, ...size }
}

/** A thumbnail's largest size: a 320 px JPEG at the phone's quality is 10–30 KB. */
export const THUMB_MAX_BYTES = 64 * 1024
/** Its long side at most (the phone makes 240). */
export const THUMB_MAX_SIDE = 320

/**
 * A thumbnail sent beside a photo, checked like the photo and more: small,
 * and of the photo's shape (within 5 %, the rounding of a 240 px side) — a
 * picture of something else would have to be made to that shape on purpose.
 */
export function inspectThumb(b: Buffer, photo: ImageInfo): ImageInfo {
  if (b.length > THUMB_MAX_BYTES) {
    throw bad(`缩略图过大（${Math.round(b.length / 1024)} KB，上限 ${THUMB_MAX_BYTES / 1024} KB）`, `thumbnail too large (${Math.round(b.length / 1024)} KB, at most ${THUMB_MAX_BYTES / 1024} KB)`)
  }
  const t = inspectImage(b)
  if (Math.max(t.width, t.height) > THUMB_MAX_SIDE) {
    throw bad(`缩略图须不大于 ${THUMB_MAX_SIDE} 像素（收到 ${t.width}×${t.height}）`, `a thumbnail is at most ${THUMB_MAX_SIDE} px (got ${t.width}×${t.height})`)
  }
  const ratio = (t.width / t.height) / (photo.width / photo.height)
  if (ratio < 0.95 || ratio > 1.05) {
    throw bad(`缩略图 ${t.width}×${t.height} 与照片 ${photo.width}×${photo.height} 形状不符`, `thumbnail ${t.width}×${t.height} is not the shape of the photo ${photo.width}×${photo.height}`)
  }
  return t
}
