/**
 * The coordinate system of a table or GIS export (issue #22): WGS84 (default),
 * CGCS2000 (EPSG:4490, what Chinese government GIS data is in: the same
 * numbers here, within a metre; see api/README.md), or Web Mercator metres.
 * GeoJSON stays RFC 7946 WGS84 whatever is asked.
 */
export const exportCrsIds = ['EPSG:4326', 'EPSG:4490', 'EPSG:3857'] as const
export type ExportCrs = (typeof exportCrsIds)[number]

/** The columns that say where a feature is, in words for the header row's readers. */
export function placeColumns(crs: ExportCrs) {
  if (crs === 'EPSG:3857') return [{ name: 'x', zh: '东坐标(米, Web墨卡托 EPSG:3857)' }, { name: 'y', zh: '北坐标(米, Web墨卡托 EPSG:3857)' }]
  const datum = crs === 'EPSG:4490' ? 'CGCS2000' : 'WGS84'
  return [{ name: 'lon', zh: `经度(${datum})` }, { name: 'lat', zh: `纬度(${datum})` }]
}

/** The suffix of the file's name for a CRS other than the default (households-530602000000-EPSG4490.gpkg). */
export const crsSuffix = (crs: ExportCrs) => (crs === 'EPSG:4326' ? '' : `-${crs.replace(':', '')}`)
