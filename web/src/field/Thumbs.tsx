/**
 * Thumbnails of photos the server has (GET /api/field/photos/{id}/thumb; the
 * service worker keeps each once seen, so they show offline too). Big ones
 * open the photo on a tap; small ones sit inside a list row (a button) and
 * are pictures only, the row opens the sheet that has the big ones.
 */
export function Thumbs({ ids, label, size = 'big' }: { ids: number[]; label: string; size?: 'big' | 'small' }) {
  if (!ids.length) return null
  return (
    <span className={`fa-thumbs ${size}`} data-testid={size === 'big' ? 'photo-thumbs' : 'photo-thumb-small'}>
      {ids.map((id) => {
        const img = <img src={`/api/field/photos/${id}/thumb`} alt={label} data-photo={id} loading="lazy" />
        return size === 'small' ? <span key={id}>{img}</span> : <a key={id} href={`/api/field/photos/${id}`} target="_blank" rel="noreferrer">{img}</a>
      })}
    </span>
  )
}
