import { describe as suite, expect, it } from 'vitest'
import { wallCatalogs } from '../../web/src/i18n/wall.ts'
import { describe } from '../../web/src/wall/WallPanels.tsx'

const num = (n: number) => String(n)
const event = (payload: Record<string, unknown>) => ({ id: 1, at: '2026-07-15T02:00:00Z', kind: 'report', unitCode: '530602100201003', unitName: '某网格', payload })

suite('the wall feed says what happened to a report, in words', () => {
  it('names a new report by its urgency, type and level, and an escalation by who raised it', () => {
    const filed = event({ id: 7, action: 'filed', type: 'geohazard', name: { zh: '地质灾害险情', en: 'Geological hazard' }, urgency: 'critical', level: 'county' })
    expect(describe(wallCatalogs.zh, filed, num)).toBe('特急上报：地质灾害险情（县处理）')
    expect(describe(wallCatalogs.en, filed, num)).toBe('Critical report: Geological hazard (for the county)')
    expect(describe(wallCatalogs.zh, event({ id: 7, action: 'escalate', auto: true, level: 'township' }), num)).toBe('上报 #7 超时未处置，升级至乡镇')
    expect(describe(wallCatalogs.zh, event({ id: 7, action: 'escalate', level: 'village' }), num)).toBe('上报 #7 提交村处理')
    expect(describe(wallCatalogs.zh, event({ id: 7, action: 'close', state: 'closed', level: 'village' }), num)).toBe('上报 #7：已办结')
  })

  it('shows no raw code for any report step', () => {
    for (const action of ['filed', 'acknowledge', 'dispatch', 'handled', 'close', 'escalate', 'merge']) {
      const line = describe(wallCatalogs.zh, event({ id: 3, action, name: { zh: '其他', en: 'Other' }, urgency: 'normal', level: 'grid', state: 'acknowledged' }), num)
      expect(line).not.toMatch(/[a-z_]{3,}/)
    }
  })
})
