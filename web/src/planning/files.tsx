import { apiError } from '../api.ts'
import { useI18n } from '../i18n/index.tsx'

export const formats = ['csv', 'xlsx', 'geojson', 'gpkg', 'shp.zip'] as const
export type Format = (typeof formats)[number]
/** A format's key in the messages (a dotted key could not be looked up). */
export const formatWord = (f: Format) => (f === 'shp.zip' ? 'shp' : f)

/** Hands the browser a file to keep. */
export function save(blob: Blob, name: string) {
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = name
  a.click()
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000)
}

/** A row of buttons, one per export format. */
export function FormatButtons({ testid, onPick, only }: { testid: string; onPick(f: Format): void; only?: (f: Format) => boolean }) {
  const { m } = useI18n()
  return (
    <div className="row">
      {formats.map((f) => (
        <button key={f} data-testid={`${testid}-${f}`} title={m.planning.formatTips[formatWord(f)]} disabled={only ? !only(f) : false} onClick={() => onPick(f)}>
          {m.planning.formats[formatWord(f)]}
        </button>
      ))}
    </div>
  )
}

/**
 * A file from an export URL, with features counted against X-Feature-Count as
 * they arrive, each step told to `say`; throws the server's words on a refusal.
 */
export function useDownload() {
  const { t, m } = useI18n()
  return async (url: string, file: string, fmt: Format, say: (text: string) => void) => {
    say(t('planning.exporting', { fmt: m.planning.formats[formatWord(fmt)] }))
    const res = await fetch(url)
    // A refused export says why (the server's message: a refusal, too many exports at once), not its status code.
    if (!res.ok) throw await apiError(res)
    const total = Number(res.headers.get('x-feature-count') ?? 0)
    // Progress: features are counted as their ends arrive (a line each in GeoJSON and CSV); binary formats show bytes.
    const reader = res.body!.getReader()
    const parts: Uint8Array[] = []
    let lines = 0
    let bytes = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      parts.push(value)
      bytes += value.length
      for (const b of value) if (b === 10) lines++
      say(fmt === 'geojson' || fmt === 'csv'
        ? t('planning.progress', { n: Math.min(lines, total), total })
        : t('planning.bytes', { kb: Math.round(bytes / 1024), total }))
    }
    save(new Blob(parts as BlobPart[]), file)
    say(t('planning.saved', { total }))
  }
}
