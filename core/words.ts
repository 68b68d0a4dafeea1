import type { Action, Role } from './policy.ts'
import type { ScopeLevel } from './units.ts'

/**
 * The words for the codes of the vocabulary: roles, levels of place,
 * permissions, transfer statuses. A person reads "乡镇干部不能分配到行政村级",
 * never "township … village"; every message builds from these tables.
 */
export interface Words {
  zh: string
  en: string
}

export const roleWords: Record<Role, Words> = {
  admin: { zh: '系统管理员', en: 'administrator' },
  commander: { zh: '县级指挥', en: 'commander' },
  township: { zh: '乡镇干部', en: 'township officer' },
  grid_worker: { zh: '网格员', en: 'grid worker' },
  planner: { zh: '规划人员', en: 'planner' },
  viewer: { zh: '只读（大屏）', en: 'read-only (wall screen)' },
}

/** The level of a place a code names (core/units.ts scopeLevel). */
export const levelWords: Record<ScopeLevel, Words> = {
  city: { zh: '市级', en: 'city' },
  county: { zh: '县级', en: 'county' },
  township: { zh: '乡镇级', en: 'township' },
  village: { zh: '行政村级', en: 'village' },
  grid: { zh: '网格级', en: 'grid' },
}

/** What a permission lets one do, said as the rest of "无权…" / "may not …". */
export const actionWords: Record<Action, Words> = {
  'household.edit': { zh: '修改农户台账', en: 'edit household ledgers' },
  'household.visit': { zh: '记录走访', en: 'record visits' },
  'grid.edit': { zh: '修改网格', en: 'change grids' },
  'order.issue': { zh: '下达或结束转移指令', en: 'issue or close transfer orders' },
  'evacuation.update': { zh: '更新住户转移状态', en: 'update households’ transfer status' },
  'task.complete': { zh: '勾选三查任务', en: 'tick off rain checklists' },
  'report.file': { zh: '上报问题', en: 'report problems' },
  'report.handle': { zh: '受理和处置上报的问题', en: 'acknowledge and handle reported problems' },
  'task.manage': { zh: '管理三查清单与预警阈值', en: 'manage checklists and rain thresholds' },
  'rain.ingest': { zh: '录入雨情数据', en: 'enter rain data' },
  'data.export': { zh: '导出数据或出图', en: 'export data or print maps' },
  'audit.read': { zh: '查看修改记录', en: 'read the change history' },
  'personal.read': { zh: '查看住户姓名和电话', en: 'see householders’ names and phone numbers' },
  'user.manage': { zh: '管理账号', en: 'manage accounts' },
}

/** A household's transfer status (core/rules/transfer.ts). */
export const transferStatusWords = {
  not_notified: { zh: '未通知', en: 'not notified' },
  notified: { zh: '已通知', en: 'notified' },
  moving: { zh: '转移中', en: 'moving' },
  at_shelter: { zh: '已到避险点', en: 'at shelter' },
  returned: { zh: '已返回', en: 'returned' },
  refused: { zh: '拒绝转移', en: 'refused' },
  unreachable: { zh: '联系不上', en: 'unreachable' },
} satisfies Record<string, Words>

/** Words joined as a list a person reads: "乡镇级或行政村级" / "township or village". */
export function orList(words: Words[]): Words {
  const join = (xs: string[], or: string, last: string) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(or)}${last}${xs.at(-1)}`)
  return { zh: join(words.map((w) => w.zh), '、', '或'), en: join(words.map((w) => w.en), ', ', ' or ') }
}
