import { describe, expect, it } from 'vitest'
import { HttpError } from '../core/errors.ts'
import { parseTilePath } from './tile-path.ts'

const error = (path: string) => {
  const r = parseTilePath(path)
  return r instanceof HttpError ? [r.status, r.code] : r
}

describe('a tile path', () => {
  it('gives the layer and the coordinates of a well-formed tile', () => {
    expect(parseTilePath('/tiles/grids/12/3245/1712.mvt')).toEqual({ layer: 'grids', z: 12, x: 3245, y: 1712 })
    expect(parseTilePath('/tiles/rain_state/0/0/0.mvt')).toEqual({ layer: 'rain_state', z: 0, x: 0, y: 0 })
    expect(parseTilePath('/tiles/grids/22/4194303/4194303.mvt')).toEqual({ layer: 'grids', z: 22, x: 4194303, y: 4194303 })
  })

  it('says what is wrong with any other, as the route answers it', () => {
    const cases: [string, [number, string]][] = [
      ['/tiles/grids/1/0/0.png', [404, 'bad_extension']],
      ['/tiles/grids/1/0/0', [404, 'bad_extension']],
      ['/tiles/Grids/1/0/0.mvt', [404, 'unknown_layer']],
      ['/tiles/grids/a/b/c.mvt', [400, 'bad_tile']],
      ['/tiles/grids/-1/0/0.mvt', [400, 'bad_tile']],
      ['/tiles/grids/01/0/0.mvt', [400, 'bad_tile']],
      ['/tiles/grids/1/2/0.mvt', [400, 'bad_tile']], // x beyond 2^z − 1
      ['/tiles/grids/23/0/0.mvt', [400, 'bad_tile']], // beyond the deepest zoom
      ['/tiles/grids/1/0/0.mvt?v=2', [404, 'not_found']], // a query is not part of a tile's path
      ['/tiles/grids/1/0/0/0.mvt', [404, 'not_found']],
      ['/tiles/grids.json', [404, 'not_found']],
    ]
    for (const [path, want] of cases) expect(error(path), path).toEqual(want)
  })
})
