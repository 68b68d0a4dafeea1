/**
 * The fixed documents of the OGC API – Features service: landing page,
 * conformance, collection descriptions and the OpenAPI 3.0 definition. GDAL
 * and QGIS read these to find the collections, their schemas and the largest
 * page (`limit` maximum).
 */
import { layerIds, layers, type FieldType, type Layer } from '../datasets.ts'
import { DEFAULT_LIMIT, MAX_LIMIT, mediaTypes } from './params.ts'
import { CRS84, crsUris } from './crs.ts'

export { CRS84 }

export const conformsTo = [
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
  'http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs',
]

const TITLE = 'gridwatch 防汛网格数据 / flood-season grid data'

export function landing(base: string) {
  return {
    title: TITLE,
    description: '昭通防汛网格、农户、隐患点、避险点、转移路线与行政区划（WGS84）。Grids, households, hazard sites, shelters, transfer routes and admin units of the flood-season command map (WGS84).',
    links: [
      { href: `${base}/ogc?f=json`, rel: 'self', type: mediaTypes.json, title: 'This document' },
      { href: `${base}/ogc/api?f=json`, rel: 'service-desc', type: mediaTypes.openapi, title: 'The API definition (OpenAPI 3.0)' },
      { href: `${base}/ogc/conformance?f=json`, rel: 'conformance', type: mediaTypes.json, title: 'Conformance classes' },
      { href: `${base}/ogc/collections?f=json`, rel: 'data', type: mediaTypes.json, title: 'The collections' },
    ],
  }
}

export function collection(base: string, layer: Layer, bounds: [number, number, number, number]) {
  const self = `${base}/ogc/collections/${layer.id}`
  return {
    id: layer.id,
    title: `${layer.zh} / ${layer.en}`,
    description: `${layer.zh}（${layer.en}）。属性 / properties: ${layer.fields.map((f) => `${f.name} ${f.zh}`).join('; ')}`,
    itemType: 'feature',
    // The area the data covers (api/data-bounds.ts): one extent that holds every layer's features.
    extent: { spatial: { bbox: [bounds], crs: CRS84 } },
    // Part 2: what the features may be asked in (api/ogc/crs.ts); stored in CRS84.
    crs: crsUris,
    storageCrs: CRS84,
    links: [
      { href: `${self}?f=json`, rel: 'self', type: mediaTypes.json, title: layer.zh },
      { href: `${self}/items?f=json`, rel: 'items', type: mediaTypes.geojson, title: `${layer.zh}（GeoJSON）` },
    ],
  }
}

export function collections(base: string, bounds: [number, number, number, number]) {
  return {
    links: [{ href: `${base}/ogc/collections?f=json`, rel: 'self', type: mediaTypes.json, title: 'The collections' }],
    collections: layerIds.map((id) => collection(base, layers[id], bounds)),
  }
}

const jsonType: Record<FieldType, object> = {
  integer: { type: 'integer' },
  number: { type: 'number' },
  string: { type: 'string' },
  boolean: { type: 'boolean' },
  'date-time': { type: 'string', format: 'date-time' },
}

const limitParam = { name: 'limit', in: 'query', required: false, description: 'Features per page', schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT }, style: 'form', explode: false }

const geometrySchema = { type: 'object', required: ['type', 'coordinates'], properties: { type: { type: 'string' }, coordinates: { type: 'array' } } }

/** OpenAPI 3.0: every path, with one schema per collection (its properties and their types). */
export function openapi(base: string) {
  const json = (schema: object, type = mediaTypes.json) => ({ content: { [type]: { schema } } })
  const errors = {
    '400': { description: 'Bad request: an unknown parameter, or a bad bbox, limit, offset, datetime or f', ...json({ $ref: '#/components/schemas/error' }) },
    '401': { description: 'Not logged in: send a session cookie or HTTP Basic credentials' },
    '406': { description: 'None of the accepted media types can be produced', ...json({ $ref: '#/components/schemas/error' }) },
  }
  const f = { $ref: '#/components/parameters/f' }
  const paths: Record<string, object> = {
    '/': { get: { summary: 'Landing page', operationId: 'getLandingPage', parameters: [f], responses: { '200': { description: 'Links to the API, conformance and collections', ...json({ type: 'object' }) }, ...errors } } },
    '/conformance': { get: { summary: 'Conformance classes', operationId: 'getConformance', parameters: [f], responses: { '200': { description: 'conformsTo', ...json({ type: 'object' }) }, ...errors } } },
    '/api': { get: { summary: 'This API definition', operationId: 'getApi', parameters: [f], responses: { '200': { description: 'OpenAPI 3.0', ...json({ type: 'object' }, mediaTypes.openapi) }, ...errors } } },
    '/collections': { get: { summary: 'The collections', operationId: 'getCollections', parameters: [f], responses: { '200': { description: 'Collections', ...json({ type: 'object' }) }, ...errors } } },
  }
  // One set of paths per collection (not /collections/{collectionId}): each gets its own feature schema.
  for (const id of layerIds) {
    const layer = layers[id]
    const ref = { $ref: `#/components/schemas/${id}_feature` }
    paths[`/collections/${id}`] = { get: { summary: `Describe ${id}`, operationId: `describe_${id}`, parameters: [f], responses: { '200': { description: layer.en, ...json({ type: 'object' }) }, '404': { description: 'Not found' }, ...errors } } }
    paths[`/collections/${id}/items`] = {
      get: {
        summary: `Features of ${id}: ${layer.zh}`, operationId: `get_${id}_items`,
        // limit inline, not a $ref: clients that size their pages from its maximum need not resolve references.
        parameters: [{ $ref: '#/components/parameters/bbox' }, { $ref: '#/components/parameters/bbox-crs' }, { $ref: '#/components/parameters/crs' },
          limitParam, { $ref: '#/components/parameters/offset' }, { $ref: '#/components/parameters/datetime' }, f],
        responses: {
          '200': { description: `A page of ${id}`, ...json({ type: 'object', required: ['type', 'features'], properties: { type: { type: 'string', enum: ['FeatureCollection'] }, features: { type: 'array', items: ref }, numberMatched: { type: 'integer' }, numberReturned: { type: 'integer' }, links: { type: 'array' } } }, mediaTypes.geojson) },
          ...errors,
        },
      },
    }
    paths[`/collections/${id}/items/{featureId}`] = {
      get: {
        summary: `One feature of ${id}`, operationId: `get_${id}_feature`,
        parameters: [{ name: 'featureId', in: 'path', required: true, schema: { type: 'string' } }, { $ref: '#/components/parameters/crs' }, f],
        responses: { '200': { description: 'The feature', ...json(ref, mediaTypes.geojson) }, '404': { description: 'No such feature' }, ...errors },
      },
    }
  }
  const schemas: Record<string, object> = {
    error: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, zh: { type: 'string' }, en: { type: 'string' } } } } },
  }
  for (const id of layerIds) {
    const props: Record<string, object> = {}
    for (const fld of layers[id].fields) props[fld.name] = { ...jsonType[fld.type], nullable: true, description: fld.zh }
    schemas[`${id}_feature`] = {
      type: 'object', required: ['type', 'geometry', 'properties'],
      properties: { type: { type: 'string', enum: ['Feature'] }, id: { type: 'integer' }, geometry: geometrySchema, properties: { type: 'object', properties: props } },
    }
  }
  return {
    openapi: '3.0.3',
    info: { title: TITLE, version: '1.0.0', description: 'OGC API – Features Part 1 (Core, GeoJSON, OpenAPI 3.0). Personal data (householder, phone) is masked unless your role and area may read it.' },
    servers: [{ url: `${base}/ogc` }],
    components: {
      securitySchemes: { basic: { type: 'http', scheme: 'basic' }, session: { type: 'apiKey', in: 'cookie', name: 'gw_session' } },
      parameters: {
        f: { name: 'f', in: 'query', required: false, description: 'Encoding (only json)', schema: { type: 'string', enum: ['json'] }, style: 'form', explode: false },
        bbox: { name: 'bbox', in: 'query', required: false, description: 'w,s,e,n in CRS84 (longitude, latitude), or in bbox-crs', schema: { type: 'array', minItems: 4, maxItems: 6, items: { type: 'number' } }, style: 'form', explode: false },
        'bbox-crs': { name: 'bbox-crs', in: 'query', required: false, description: 'The CRS of bbox (default CRS84)', schema: { type: 'string', format: 'uri', enum: crsUris }, style: 'form', explode: false },
        crs: { name: 'crs', in: 'query', required: false, description: 'The CRS of the features (default CRS84); EPSG:4326 and EPSG:4490 are latitude first', schema: { type: 'string', format: 'uri', enum: crsUris }, style: 'form', explode: false },
        limit: limitParam,
        offset: { name: 'offset', in: 'query', required: false, description: 'Features to skip (the next link carries it)', schema: { type: 'integer', minimum: 0, default: 0 }, style: 'form', explode: false },
        datetime: { name: 'datetime', in: 'query', required: false, description: 'RFC 3339 instant or interval; these collections have no time of their own, so it selects nothing out', schema: { type: 'string' }, style: 'form', explode: false },
      },
      schemas,
    },
    security: [{ basic: [] }, { session: [] }],
    paths,
  }
}
