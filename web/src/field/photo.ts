/** The long edge of a photo sent from the phone: enough to see a crack, small enough for a weak signal. */
export const PHOTO_LONG_EDGE = 1600

/** A photo from the camera or gallery, shrunk on the phone to a JPEG (base64, no prefix) with its long edge ≤ 1600 px. */
export async function shrinkPhoto(file: Blob): Promise<string> {
  const img = await createImageBitmap(file)
  const scale = Math.min(1, PHOTO_LONG_EDGE / Math.max(img.width, img.height))
  const canvas = document.createElement('canvas')
  canvas.width = Math.max(1, Math.round(img.width * scale))
  canvas.height = Math.max(1, Math.round(img.height * scale))
  canvas.getContext('2d')!.drawImage(img, 0, 0, canvas.width, canvas.height)
  img.close()
  const blob = await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('toBlob'))), 'image/jpeg', 0.8))
  const bytes = new Uint8Array(await blob.arrayBuffer())
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}
