/**
 * WCAG 2 contrast of text against what is behind it, from computed CSS
 * colours. Pure: the browser suites gather colours in the page and judge
 * them here, so the arithmetic has a unit test of its own.
 */

/** sRGB 0–255 and alpha 0–1. */
export type RGBA = [number, number, number, number]
export type RGB = [number, number, number]

/** One box from the page's root down to the text: its background (the stops of a gradient: any of them may be behind the text) and its opacity. */
export interface Layer {
  backgrounds: RGBA[]
  opacity: number
}

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n))

function channel(s: string, max: number): number {
  const v = s.trim()
  return v.endsWith('%') ? (parseFloat(v) / 100) * max : parseFloat(v)
}

/**
 * A computed colour as Chromium reports it: `rgb(r, g, b)`, `rgba(r, g, b, a)`,
 * the space-separated `rgb(r g b / a)`, `color(srgb r g b / a)` (0–1), hex
 * and `transparent`. Null for anything else (named colours, other spaces).
 */
export function parseColor(css: string): RGBA | null {
  const s = css.trim().toLowerCase()
  if (s === 'transparent') return [0, 0, 0, 0]
  const hex = /^#([0-9a-f]{3,8})$/.exec(s)
  if (hex) {
    let h = hex[1]
    if (h.length === 3 || h.length === 4) h = [...h].map((c) => c + c).join('')
    if (h.length !== 6 && h.length !== 8) return null
    const n = (i: number) => parseInt(h.slice(i, i + 2), 16)
    return [n(0), n(2), n(4), h.length === 8 ? n(6) / 255 : 1]
  }
  const fn = /^(rgba?|color)\((.*)\)$/.exec(s)
  if (!fn) return null
  let body = fn[2].trim()
  let scale = 1
  if (fn[1] === 'color') {
    if (!body.startsWith('srgb ')) return null
    body = body.slice(5)
    scale = 255
  }
  const [rgbPart, alphaPart] = body.includes('/') ? body.split('/') : [body, undefined]
  const parts = rgbPart.split(/[\s,]+/).filter(Boolean)
  let alpha = alphaPart
  if (parts.length === 4 && alpha === undefined) alpha = parts.pop()
  if (parts.length !== 3) return null
  const rgb = parts.map((p) => clamp(p.endsWith('%') ? channel(p, 255) : parseFloat(p) * scale, 0, 255))
  const a = alpha === undefined ? 1 : clamp(channel(alpha, 1), 0, 1)
  if (rgb.some(Number.isNaN) || Number.isNaN(a)) return null
  return [rgb[0], rgb[1], rgb[2], a]
}

/** The colours of a `background-image` gradient's stops (none for `none` or an image). */
export function gradientColors(backgroundImage: string): RGBA[] {
  if (!/gradient\(/.test(backgroundImage)) return []
  return [...backgroundImage.matchAll(/(rgba?|color)\([^()]*\)|#[0-9a-f]{3,8}\b/gi)].map((m) => parseColor(m[0])).filter((c): c is RGBA => c !== null)
}

/** `top` painted over an opaque `bottom`. */
export function over(top: RGBA, bottom: RGB): RGB {
  const a = top[3]
  return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)) as RGB
}

/** `top` painted over a translucent `bottom`: the two as one colour (for a gradient over a background colour). */
export function stack(top: RGBA, bottom: RGBA): RGBA {
  const a = top[3] + bottom[3] * (1 - top[3])
  if (a === 0) return [0, 0, 0, 0]
  const c = (i: number) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a
  return [c(0), c(1), c(2), a]
}

/** Relative luminance (WCAG 2). */
export function luminance([r, g, b]: RGB): number {
  const lin = (c: number) => {
    const s = c / 255
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4
  }
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/** Contrast ratio of two opaque colours, 1–21. */
export function contrast(a: RGB, b: RGB): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x)
  return (hi + 0.05) / (lo + 0.05)
}

/**
 * The colour on screen at the text (`text` given) or just beside it, through
 * the boxes from the root down (`layers`, the text's own box last), over
 * `base`: each box paints its background, its content goes on that, and the
 * whole is blended with what was behind by the box's opacity (CSS groups).
 */
function render(layers: Layer[], pick: number[], base: RGB, text?: RGBA): RGB {
  const at = (i: number, backdrop: RGB): RGB => {
    if (i === layers.length) return text ? over(text, backdrop) : backdrop
    const l = layers[i]
    const bg = l.backgrounds[pick[i]]
    const inner = at(i + 1, bg ? over(bg, backdrop) : backdrop)
    return over([inner[0], inner[1], inner[2], l.opacity], backdrop)
  }
  return at(0, base)
}

/**
 * The lowest contrast of `text` against its background: with gradients, over
 * every combination of their stops (the text may sit over any part).
 */
export function textContrast(text: RGBA, layers: Layer[], base: RGB): number {
  let worst = Infinity
  const pick = layers.map(() => 0)
  const walk = (i: number): void => {
    if (i === layers.length) {
      worst = Math.min(worst, contrast(render(layers, pick, base, text), render(layers, pick, base)))
      return
    }
    const n = Math.max(1, layers[i].backgrounds.length)
    for (let k = 0; k < n; k++) {
      pick[i] = k
      walk(i + 1)
    }
  }
  walk(0)
  return worst
}

/** WCAG 1.4.3 minimum: 3:1 for large text (24 px, or 18.66 px bold), else 4.5:1. */
export function required(fontSizePx: number, fontWeight: number): number {
  return fontSizePx >= 24 || (fontSizePx >= 18.66 && fontWeight >= 700) ? 3 : 4.5
}
