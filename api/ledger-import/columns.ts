/**
 * What each import takes: its fields, the headers townships use for them
 * (Chinese first; our own export's English names too, so an export comes back
 * in as it went out), and how each cell is read. A user's mapping
 * {field: header} overrides the guess for any field.
 */
import gcoord from 'gcoord'
import type { LineError } from './decode.ts'
import type { Sheet } from './read.ts'

export type Crs = 'wgs84' | 'cgcs2000' | 'gcj02'

type Kind = 'text' | 'code' | 'int' | 'number' | 'bool' | 'risk' | 'enum'
/** A code's form, and how to say it. */
interface CodeShape { pattern: RegExp; zh: string; en: string }
interface Spec { field: string; zh: string; kind: Kind; required?: boolean; aliases: string[]; values?: readonly string[]; max?: number; code?: CodeShape }

const s = (field: string, zh: string, kind: Kind, aliases: string[], extra: Partial<Spec> = {}): Spec => ({ field, zh, kind, aliases: [field, zh, ...aliases], ...extra })
const lonLat = [s('lon', '经度', 'number', ['longitude', 'x', 'X', '东经'], { required: true }), s('lat', '纬度', 'number', ['latitude', 'y', 'Y', '北纬'], { required: true })]

/** A household's code: its grid's 15 digits and 4 more (data/seed, api/ledger-import/run.ts). */
const householdCode: CodeShape = { pattern: /^[0-9]{19}$/, zh: '户代码须为 19 位数字（网格代码 15 位 + 4 位序号）', en: 'a household code is 19 digits (the grid\'s 15 and 4 more)' }
/** A hazard site's unified code (统一编号), e.g. 530602DZ00001. */
const hazardCode: CodeShape = { pattern: /^[A-Za-z0-9_-]{1,32}$/, zh: '统一编号须由字母、数字、- 或 _ 组成，至多 32 位', en: 'a unified code is letters, digits, - or _, at most 32' }
/** What Excel makes of a long code typed as a number: 5.30602E+18, the last digits gone. */
const SCIENTIFIC = /^[0-9](\.[0-9]*)?e[+-]?[0-9]+$/i

export const householdSpecs: Spec[] = [
  s('code', '户代码', 'code', ['户编号', '户号', '编号'], { code: householdCode }),
  s('householder', '户主', 'text', ['户主姓名', '姓名'], { required: true, max: 50 }),
  s('phone', '电话', 'text', ['联系电话', '手机', '手机号'], { max: 32 }),
  s('members', '人口', 'int', ['人口数', '家庭人口', '人数'], { required: true }),
  s('elderly_alone', '独居老人', 'int', []),
  s('left_behind_children', '留守儿童', 'int', []),
  s('disabled', '残疾人', 'int', []),
  s('risk_level', '风险等级', 'risk', ['风险', '红黄绿'], { required: true }),
  s('flood_exposed', '受威胁', 'bool', ['受洪涝或隐患点威胁', '是否受威胁']),
  s('measures', '措施', 'text', ['防范措施'], { max: 500 }),
  ...lonLat,
]

export const hazardTypes = ['滑坡', '崩塌', '泥石流', '地面塌陷', '不稳定斜坡', '地裂缝', '地面沉降'] as const
export const hazardScales = ['特大型', '大型', '中型', '小型'] as const

export const hazardSpecs: Spec[] = [
  s('code', '统一编号', 'code', ['编号', '隐患点编号'], { required: true, code: hazardCode }),
  s('name', '名称', 'text', ['隐患点名称', '隐患点'], { required: true, max: 100 }),
  s('type', '类型', 'enum', ['灾种', '灾害类型'], { required: true, values: hazardTypes }),
  s('scale', '规模', 'enum', ['规模等级'], { required: true, values: hazardScales }),
  s('threat_object', '威胁对象', 'text', [], { max: 200 }),
  s('threatened_households', '威胁户数', 'int', ['threatened']),
  s('threatened_people', '威胁人数', 'int', ['threaten_1']),
  s('threatened_property', '威胁财产', 'number', ['威胁财产(万元)', 'threaten_2']),
  s('countermeasure', '防治措施', 'text', ['countermea'], { max: 200 }),
  s('monitoring_method', '监测手段', 'text', ['monitoring'], { max: 200 }),
  s('warning_signal', '预警信号', 'text', ['warning_si'], { max: 200 }),
  s('trigger_factor', '诱发因素', 'text', ['trigger_fa'], { max: 200 }),
  s('critical_rain_1h', '临界雨量1h', 'number', ['临界雨量1h(mm)', 'critical_r']),
  s('critical_rain_24h', '临界雨量24h', 'number', ['临界雨量24h(mm)', 'critical_1']),
  s('status', '状态', 'enum', ['status(active/cancelled)'], { values: ['active', 'cancelled'] }),
  ...lonLat,
]

const risks: Record<string, string> = { red: 'red', yellow: 'yellow', green: 'green', 红: 'red', 黄: 'yellow', 绿: 'green', 红色: 'red', 黄色: 'yellow', 绿色: 'green', 高风险: 'red', 低风险: 'yellow', 无风险: 'green' }
const bools: Record<string, boolean> = { true: true, false: false, '1': true, '0': false, 是: true, 否: false, y: true, n: false, yes: true, no: false }

export interface Parsed { row: number; values: Record<string, string | number | boolean | null> }

/** Which header feeds each field: the user's mapping, else the first alias found. Missing required fields are a row-1 error. */
function resolve(specs: Spec[], headers: string[], mapping: Record<string, string>, errors: LineError[]) {
  const cols = new Map<string, string>()
  for (const [field, header] of Object.entries(mapping)) {
    if (!specs.some((x) => x.field === field)) errors.push({ row: 1, zh: `对应关系中的字段“${field}”不存在`, en: `the mapping names an unknown field "${field}"` })
    else if (!headers.includes(header)) errors.push({ row: 1, zh: `对应关系中的列“${header}”不在表头中`, en: `the mapping names a column "${header}" the header does not have` })
    else cols.set(field, header)
  }
  for (const sp of specs) {
    if (cols.has(sp.field)) continue
    const h = sp.aliases.find((a) => headers.includes(a))
    if (h) cols.set(sp.field, h)
  }
  const missing = specs.filter((x) => x.required && !cols.has(x.field))
  if (missing.length) {
    errors.push({
      row: 1,
      zh: `缺少必需的列：${missing.map((m) => `${m.zh}(${m.field})`).join('、')}；文件表头为：${headers.join('、')}`,
      en: `required columns missing: ${missing.map((m) => m.field).join(', ')}; the file's header: ${headers.join(', ')}`,
    })
  }
  return cols
}

/**
 * Every record read and checked; coordinates converted to WGS84 from the CRS
 * the user chose (CGCS2000 is WGS84 within a metre, GCJ-02 goes through gcoord).
 */
export function parseSheet(sheet: Sheet, specs: Spec[], mapping: Record<string, string>, crs: Crs): { rows: Parsed[]; errors: LineError[] } {
  const errors: LineError[] = [...sheet.errors]
  // A file that could not be read at all (encoding, syntax) has said why; its missing header would only add noise.
  if (!sheet.headers.length && errors.length) return { rows: [], errors }
  const cols = resolve(specs, sheet.headers, mapping, errors)
  if (errors.some((e) => e.row === 1)) return { rows: [], errors }
  const rows: Parsed[] = []
  for (const rec of sheet.records) {
    const errorsBefore = errors.length
    const out: Parsed['values'] = {}
    const bad = (sp: Spec, raw: string, zh: string, en: string) =>
      errors.push({ row: rec.row, zh: `第 ${rec.row} 行 ${sp.zh}“${raw}”：${zh}`, en: `row ${rec.row} ${sp.field} "${raw}": ${en}` })
    for (const sp of specs) {
      const h = cols.get(sp.field)
      const raw = h === undefined ? '' : (rec.values[h] ?? '').trim()
      if (raw === '') {
        if (sp.required) bad(sp, raw, '不能为空', 'must not be empty')
        out[sp.field] = null
        continue
      }
      if (sp.kind === 'text') {
        // A masked export (张**, 138****5678) must not overwrite the real name or phone.
        if ((sp.field === 'householder' || sp.field === 'phone') && raw.includes('*')) bad(sp, raw, '是脱敏后的值，请用可查看姓名电话的账号导出后再导入', 'is a masked value: export with an account that may read names and phones')
        else if (raw.length > (sp.max ?? 200)) bad(sp, raw.slice(0, 20), `超过 ${sp.max} 个字符`, `longer than ${sp.max} characters`)
        else out[sp.field] = raw
      } else if (sp.kind === 'code') {
        // A code that is not one would become a new record (the stored one not found), so it is refused.
        if (SCIENTIFIC.test(raw)) bad(sp, raw, '是科学计数法：Excel 把编号当成了数字，末几位已丢失。请把该列设为文本格式后重新填入编号', 'is in scientific notation: Excel took the code for a number and its last digits are lost. Format the column as text and enter the codes again')
        else if (!sp.code!.pattern.test(raw)) bad(sp, raw.slice(0, 40), sp.code!.zh, sp.code!.en)
        else out[sp.field] = raw
      } else if (sp.kind === 'int') {
        const n = Number(raw)
        if (!Number.isInteger(n) || n < 0 || n > 1_000_000) bad(sp, raw, '须为非负整数', 'must be a whole number ≥ 0')
        else out[sp.field] = n
      } else if (sp.kind === 'number') {
        const n = Number(raw)
        if (!Number.isFinite(n)) bad(sp, raw, '须为数字', 'must be a number')
        else out[sp.field] = n
      } else if (sp.kind === 'bool') {
        const b = bools[raw.toLowerCase()]
        if (b === undefined) bad(sp, raw, '须为 是/否', 'must be yes/no (是/否, true/false, 1/0)')
        else out[sp.field] = b
      } else if (sp.kind === 'risk') {
        const r = risks[raw.toLowerCase()]
        if (!r) bad(sp, raw, '须为 红/黄/绿', 'must be red/yellow/green (红/黄/绿)')
        else out[sp.field] = r
      } else if (!sp.values!.includes(raw)) bad(sp, raw, `须为 ${sp.values!.join('/')} 之一`, `must be one of ${sp.values!.join(', ')}`)
      else out[sp.field] = raw
    }
    const { lon, lat } = out
    if (typeof lon === 'number' && typeof lat === 'number') {
      if (lon < 73 || lon > 136 || lat < 3 || lat > 54) {
        errors.push({ row: rec.row, zh: `第 ${rec.row} 行 坐标（${lon}, ${lat}）不在中国范围内（经度 73–136，纬度 3–54；经纬度是否填反？）`, en: `row ${rec.row}: coordinates (${lon}, ${lat}) are not in China (lon 73–136, lat 3–54; swapped?)` })
      } else if (crs === 'gcj02') {
        const [x, y] = gcoord.transform([lon, lat], gcoord.GCJ02, gcoord.WGS84) as [number, number]
        out.lon = x
        out.lat = y
      }
    }
    if (typeof out.members === 'number' && (out.members < 1 || out.members > 30)) {
      errors.push({ row: rec.row, zh: `第 ${rec.row} 行 人口须在 1–30 之间`, en: `row ${rec.row}: members must be 1–30` })
    }
    // A row with errors of its own goes no further (placing it in a grid needs its coordinates).
    if (errors.length === errorsBefore) rows.push({ row: rec.row, values: out })
  }
  return { rows, errors }
}
