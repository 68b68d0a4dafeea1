/**
 * Raw codes in the Chinese UI: words of Latin letters a person was not meant
 * to read (true, village, reshape, household.edit…). A word is a run of ASCII
 * letters and digits starting with a letter; the names below are what a
 * Chinese screen legitimately writes in Latin letters.
 */
export const allowedLatin = new Set([
  // File formats, as GIS users know them
  'GeoJSON', 'CSV', 'XLSX', 'Excel', 'PNG', 'PDF', 'Shapefile', 'GeoPackage', 'ZIP', 'UTF',
  // The GIS programs planners open our files in
  'QGIS', 'ArcGIS',
  // Units and paper sizes
  'km', 'm', 'mm', 'KB', 'MB', 'A3', 'A4',
  // Coordinate systems, standards
  'WGS84', 'CGCS2000', 'GCJ', 'OGC', 'H3', 'ISO', 'Web', 'GBK',
  // A monitoring method in the hazard ledger (satellite positioning)
  'GNSS',
  // The language switch, the product's own name, the map library and its attribution
  'English', 'gridwatch', 'MapLibre', 'OpenStreetMap', 'OSM', 'contributors',
])

export interface LatinHit {
  word: string
  /** The text around it, to find it on screen. */
  context: string
}

/** Latin-letter words of `text` not on the allow-list, each with 24 characters either side. */
export function latinCodes(text: string, allow: ReadonlySet<string> = allowedLatin): LatinHit[] {
  const hits: LatinHit[] = []
  for (const m of text.matchAll(/[A-Za-z][A-Za-z0-9]*/g)) {
    if (allow.has(m[0])) continue
    const from = Math.max(0, m.index - 24)
    const context = text.slice(from, m.index + m[0].length + 24).replace(/\s+/g, ' ').trim()
    hits.push({ word: m[0], context })
  }
  return hits
}
