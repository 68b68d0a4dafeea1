/**
 * The map's icons as shapes, in CSS pixels: the web map draws them on a canvas at start
 * (web/src/map/style.ts makeIcons), the API rasterises them into the published style's sprite
 * (api/styles/sprite.ts). One drawing, two painters: a hazard site or a shelter looks the same in
 * our map and in QGIS.
 *
 * A part is a closed polygon, filled, then stroked along its edges (the stroke centred on them, as
 * a canvas strokes); later parts lie over earlier ones.
 */
import { dangerColor, shelterColor } from './colors.ts'

export type Point = readonly [number, number]
export interface IconPart {
  points: readonly Point[]
  fill: string
  stroke?: { color: string; width: number }
}
export interface IconShape {
  /** The name layers use in `icon-image`. */
  name: string
  /** Width and height, in CSS pixels. */
  size: number
  parts: readonly IconPart[]
}

const WHITE = '#ffffff'
const rect = (x: number, y: number, w: number, h: number): Point[] => [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]

/** A warning triangle with an exclamation mark, in the colour of the site's danger level. */
function hazard(level: string, color: string): IconShape {
  const s = 22
  return {
    name: `hazard-${level}`,
    size: s,
    parts: [
      { points: [[s / 2, 2], [s - 2, s - 3], [2, s - 3]], fill: color, stroke: { color: WHITE, width: 1.5 } },
      { points: rect(s / 2 - 1, s * 0.36, 2, s * 0.28), fill: WHITE },
      { points: rect(s / 2 - 1, s * 0.7, 2, 2), fill: WHITE },
    ],
  }
}

/** A house. */
function shelter(): IconShape {
  const s = 20
  return {
    name: 'shelter',
    size: s,
    parts: [{
      points: [[s / 2, 2], [s - 2, s * 0.45], [s - 4, s * 0.45], [s - 4, s - 2], [4, s - 2], [4, s * 0.45], [2, s * 0.45]],
      fill: shelterColor,
      stroke: { color: WHITE, width: 1.5 },
    }],
  }
}

/** Every icon the command map's layers name. */
export const mapIcons: readonly IconShape[] = [...Object.entries(dangerColor).map(([level, color]) => hazard(level, color)), shelter()]
