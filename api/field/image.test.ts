import { describe, expect, it } from 'vitest'
import { PNG } from 'pngjs'
import { HttpError } from '../../core/errors.ts'
import { inspectImage, PHOTO_MAX_BYTES } from './image.ts'

// Made by Chromium's canvas (toDataURL), 37×21: what a phone's browser sends.
const JPEG = Buffer.from('/9j/4AAQSkZJRgABAQAAAQABAAD/4gHYSUNDX1BST0ZJTEUAAQEAAAHIAAAAAAQwAABtbnRyUkdCIFhZWiAH4AABAAEAAAAAAABhY3NwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAA9tYAAQAAAADTLQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAlkZXNjAAAA8AAAACRyWFlaAAABFAAAABRnWFlaAAABKAAAABRiWFlaAAABPAAAABR3dHB0AAABUAAAABRyVFJDAAABZAAAAChnVFJDAAABZAAAAChiVFJDAAABZAAAAChjcHJ0AAABjAAAADxtbHVjAAAAAAAAAAEAAAAMZW5VUwAAAAgAAAAcAHMAUgBHAEJYWVogAAAAAAAAb6IAADj1AAADkFhZWiAAAAAAAABimQAAt4UAABjaWFlaIAAAAAAAACSgAAAPhAAAts9YWVogAAAAAAAA9tYAAQAAAADTLXBhcmEAAAAAAAQAAAACZmYAAPKnAAANWQAAE9AAAApbAAAAAAAAAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAACAAAAAcAEcAbwBvAGcAbABlACAASQBuAGMALgAgADIAMAAxADb/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wAARCAAVACUDASIAAhEBAxEB/8QAFwABAQEBAAAAAAAAAAAAAAAAAAYEB//EAB8QAAICAwACAwAAAAAAAAAAAAECAAMEBREGURJBYf/EABcBAQEBAQAAAAAAAAAAAAAAAAAGBAf/xAAeEQABAgcBAAAAAAAAAAAAAAAAAgMEBQYREiExAf/aAAwDAQACEQMRAD8A5jrMC3Y3tVSyKyr8uuSBzoH0P2bsjxzLoosteygrWpYgMe8A76jxS6qjY2NdYlamojrsAO9HuUeyzsR9dlKmVQzNU4AFgJJ4ZEvvuodxTwoamqadQE6TBwabte4bwv3uyDiIm86oIiIAiIgCIiAIiIB//9k=', 'base64')
const WEBP_VP8X = Buffer.from('UklGRpYCAABXRUJQVlA4WAoAAAAgAAAAJAAAFAAASUNDUMgBAAAAAAHIAAAAAAQwAABtbnRyUkdCIFhZWiAH4AABAAEAAAAAAABhY3NwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAA9tYAAQAAAADTLQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAlkZXNjAAAA8AAAACRyWFlaAAABFAAAABRnWFlaAAABKAAAABRiWFlaAAABPAAAABR3dHB0AAABUAAAABRyVFJDAAABZAAAAChnVFJDAAABZAAAAChiVFJDAAABZAAAAChjcHJ0AAABjAAAADxtbHVjAAAAAAAAAAEAAAAMZW5VUwAAAAgAAAAcAHMAUgBHAEJYWVogAAAAAAAAb6IAADj1AAADkFhZWiAAAAAAAABimQAAt4UAABjaWFlaIAAAAAAAACSgAAAPhAAAts9YWVogAAAAAAAA9tYAAQAAAADTLXBhcmEAAAAAAAQAAAACZmYAAPKnAAANWQAAE9AAAApbAAAAAAAAAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAACAAAAAcAEcAbwBvAGcAbABlACAASQBuAGMALgAgADIAMAAxADZWUDggqAAAAPAFAJ0BKiUAFQA+bTSVSKQioiElaACADYlsAHcF9V/AD8gOcMgA9TPdAOAA6SvygAEfzIDSHheAAP73c6eT+Cxz6OEn3qB0WMgynsymb/yMYWFKlAMLNdckIef//wxHZDjAcC+AKYdBH//+ug3qK+kAv+5df8THeLIWNCuF/4lt9v61GO/qajrAfvf8yzf95Sh5pM3eESYmZ6AxQdFUqXVvgY/QAAAAAA==', 'base64')

function png(width: number, height: number) {
  const p = new PNG({ width, height })
  return PNG.sync.write(p)
}

/** A simple lossy WebP header ('VP8 ' chunk): the frame's start code and 14-bit sizes. */
function webpVp8(width: number, height: number) {
  const b = Buffer.alloc(40)
  b.write('RIFF', 0, 'latin1'); b.writeUInt32LE(32, 4); b.write('WEBPVP8 ', 8, 'latin1'); b.writeUInt32LE(20, 16)
  b[23] = 0x9d; b[24] = 0x01; b[25] = 0x2a
  b.writeUInt16LE(width, 26); b.writeUInt16LE(height, 28)
  return b
}

const refusal = (b: Buffer) => {
  try {
    inspectImage(b)
  } catch (e) {
    if (e instanceof HttpError) return { status: e.status, code: e.code, zh: e.zh, en: e.en }
    throw e
  }
  return null
}

describe('photos are checked by their own bytes', () => {
  it('reads JPEG, PNG and WebP and their sizes', () => {
    expect(inspectImage(JPEG)).toEqual({ mime: 'image/jpeg', width: 37, height: 21 })
    expect(inspectImage(png(300, 200))).toEqual({ mime: 'image/png', width: 300, height: 200 })
    expect(inspectImage(WEBP_VP8X)).toEqual({ mime: 'image/webp', width: 37, height: 21 })
    expect(inspectImage(webpVp8(1600, 900))).toEqual({ mime: 'image/webp', width: 1600, height: 900 })
  })

  it('refuses what is not an image, a cut-short one, a huge one, in Chinese and English', () => {
    const text = refusal(Buffer.from('%PDF-1.4 not a photo'))
    expect(text).toMatchObject({ status: 400, code: 'bad_photo' })
    expect(text!.zh).toMatch(/JPEG/)
    // A JPEG whose frame header was cut off.
    expect(refusal(JPEG.subarray(0, 200))).toMatchObject({ status: 400, code: 'bad_photo' })
    expect(refusal(Buffer.from([0xff, 0xd8, 0xff, 0xd9]))).toMatchObject({ status: 400, code: 'bad_photo' })
    // An SVG or HTML named .jpg is text.
    expect(refusal(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toMatchObject({ code: 'bad_photo' })
    expect(refusal(png(5000, 10))).toMatchObject({ status: 400, code: 'bad_photo', en: /5000×10/ })
    expect(refusal(webpVp8(0, 10))).toMatchObject({ status: 400, code: 'bad_photo' })
    const big = Buffer.concat([JPEG, Buffer.alloc(PHOTO_MAX_BYTES)])
    expect(refusal(big)).toMatchObject({ status: 413, code: 'photo_too_large' })
  })
})
