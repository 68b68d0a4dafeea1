import type { Page } from 'playwright-core'
import { gradientColors, parseColor, required, stack, textContrast, type Layer, type RGB } from './contrast.ts'
import { latinCodes, type LatinHit } from './latin-codes.ts'

/*
 * What a person reads on a page, and the colours it is drawn in, gathered in
 * the page and judged here. The page scripts are plain JavaScript strings:
 * functions handed to page.evaluate lose their helpers once transpiled.
 */

/**
 * Every visible piece of text: text nodes of rendered elements (a select's
 * options when the select is shown), and the title, aria-label, placeholder
 * and alt attributes of rendered elements. `translate="no"` marks values that
 * are identifiers by nature (a login name), left out as the attribute says.
 */
const textScript = `(() => {
  const out = []
  const shown = (el) => !!el && el.checkVisibility({ visibilityProperty: true }) && !el.closest('[translate=no]')
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent.trim()
    const el = n.parentElement
    if (!text || !el || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(el.tagName)) continue
    const box = el.closest('option, optgroup') ? el.closest('select, datalist') : el
    if (shown(box) && !el.closest('[translate=no]')) out.push(text)
  }
  for (const el of document.querySelectorAll('[title], [aria-label], [placeholder], [alt]')) {
    if (!shown(el)) continue
    for (const a of ['title', 'aria-label', 'placeholder', 'alt']) {
      const v = el.getAttribute(a)
      if (v && v.trim()) out.push(v.trim())
    }
  }
  if (document.title) out.push(document.title)
  return out
})()`

export async function visibleText(page: Page): Promise<string[]> {
  return page.evaluate(textScript)
}

/** Raw codes on the page, one line each: the word and the text around it. */
export async function latinOnPage(page: Page, where: string): Promise<string[]> {
  const seen = new Set<string>()
  const lines: string[] = []
  for (const piece of await visibleText(page)) {
    for (const h of latinCodes(piece) as LatinHit[]) {
      const line = `${where}: "${h.word}" in "${h.context}"`
      if (!seen.has(line)) lines.push(line)
      seen.add(line)
    }
  }
  return lines
}

interface ControlText {
  control: string
  text: string
  color: string
  fontSize: number
  fontWeight: number
  layers: { bg: string; image: string; opacity: number }[]
}

/**
 * Each visible, enabled control (button, link, input, select, textarea,
 * label) and every text inside it: the text's colour and size, and the
 * background and opacity of each box from the root down to the text. Inputs
 * are judged on their value and, when empty, on their placeholder. Disabled
 * controls are exempt (WCAG 1.4.3 "inactive components").
 */
const controlsScript = `(() => {
  const items = []
  const seen = new Set()
  const shown = (el) => el.checkVisibility({ visibilityProperty: true, opacityProperty: true })
  const name = (el) => el.tagName.toLowerCase() + (el.dataset.testid ? '[' + el.dataset.testid + ']' : '') +
    (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
  const layers = (el) => {
    const ls = []
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e)
      ls.unshift({ bg: s.backgroundColor, image: s.backgroundImage, opacity: Number(s.opacity) })
    }
    return ls
  }
  const add = (control, el, text, pseudo) => {
    const key = [control, el, pseudo]
    for (const k of seen) if (k[0] === control && k[1] === el && k[2] === pseudo) return
    seen.add(key)
    const s = getComputedStyle(el, pseudo || null)
    items.push({ control: name(control) + ' "' + (control.innerText || control.value || control.placeholder || '').trim().slice(0, 30) + '"',
      text: text.trim().slice(0, 40), color: s.color, fontSize: parseFloat(s.fontSize), fontWeight: Number(s.fontWeight) || 400, layers: layers(el) })
  }
  for (const c of document.querySelectorAll('button, a, input, select, textarea, label, summary, [role=button]')) {
    if (!shown(c)) continue
    const r = c.getBoundingClientRect()
    if (r.width < 1 || r.height < 1) continue
    if (c.disabled || c.closest('fieldset:disabled') || c.getAttribute('aria-disabled') === 'true') continue
    if (c.matches('input, select, textarea')) {
      const type = (c.type || '').toLowerCase()
      if (['checkbox', 'radio', 'file', 'range', 'color', 'hidden', 'image'].includes(type)) continue
      const value = c.tagName === 'SELECT' ? (c.selectedOptions[0] ? c.selectedOptions[0].textContent : '') : c.value
      if (value && value.trim()) add(c, c, value)
      if (!c.value && c.placeholder) add(c, c, c.placeholder, '::placeholder')
      continue
    }
    const w = document.createTreeWalker(c, NodeFilter.SHOW_TEXT)
    for (let n = w.nextNode(); n; n = w.nextNode()) {
      const el = n.parentElement
      if (n.textContent.trim() && el && !el.closest('option, select, textarea') && shown(el)) add(c, el, n.textContent)
    }
  }
  return items
})()`

/** The theme's page colour, under everything: panels over the map are judged over it. */
const baseScript = `getComputedStyle(document.documentElement).getPropertyValue('--bg').trim() || getComputedStyle(document.documentElement).backgroundColor`

/** Controls on the page whose text is below the WCAG minimum, one line each. */
export async function lowContrastOnPage(page: Page, where: string): Promise<string[]> {
  const items = (await page.evaluate(controlsScript)) as ControlText[]
  const base = parseColor((await page.evaluate(baseScript)) as string) ?? [0, 0, 0, 1]
  const out: string[] = []
  for (const it of items) {
    const text = parseColor(it.color)
    if (!text) {
      out.push(`${where}: ${it.control}: unreadable colour ${it.color}`)
      continue
    }
    const layers: Layer[] = it.layers.map((l) => {
      const bg = parseColor(l.bg) ?? [0, 0, 0, 0]
      // A gradient paints over the box's background colour.
      const stops = gradientColors(l.image).map((s) => stack(s, bg))
      return { backgrounds: stops.length ? stops : bg[3] > 0 ? [bg] : [], opacity: Number.isFinite(l.opacity) ? l.opacity : 1 }
    })
    const ratio = textContrast(text, layers, base.slice(0, 3) as RGB)
    const need = required(it.fontSize, it.fontWeight)
    if (ratio < need) out.push(`${where}: ${it.control} text "${it.text}" ${ratio.toFixed(2)}:1 < ${need}:1 (colour ${it.color})`)
  }
  return [...new Set(out)]
}
