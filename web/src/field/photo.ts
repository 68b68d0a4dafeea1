/** The long edge of a photo sent from the phone: enough to see a crack, small enough for a weak signal. */
export const PHOTO_LONG_EDGE = 1600
/** The long edge of its thumbnail (records and lists; the server takes at most 320). */
export const THUMB_LONG_EDGE = 240

/** A photo ready to send: the JPEG (base64, no prefix) and its thumbnail, made here since the server has no image library. */
export interface Shrunk { photo: string; thumb: string }

async function jpeg(img: ImageBitmap, longEdge: number, quality: number): Promise<string> {
  const scale = Math.min(1, longEdge / Math.max(img.width, img.height))
  const canvas = document.createElement('canvas')
  canvas.width = Math.max(1, Math.round(img.width * scale))
  canvas.height = Math.max(1, Math.round(img.height * scale))
  canvas.getContext('2d')!.drawImage(img, 0, 0, canvas.width, canvas.height)
  const blob = await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('toBlob'))), 'image/jpeg', quality))
  const bytes = new Uint8Array(await blob.arrayBuffer())
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}

/** A photo from the camera or gallery, shrunk on the phone to a JPEG with its long edge ≤ 1600 px, and its ≤ 240 px thumbnail. */
export async function shrinkPhoto(file: Blob): Promise<Shrunk> {
  const img = await createImageBitmap(file)
  try {
    return { photo: await jpeg(img, PHOTO_LONG_EDGE, 0.8), thumb: await jpeg(img, THUMB_LONG_EDGE, 0.7) }
  } finally {
    img.close()
  }
}
