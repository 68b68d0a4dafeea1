import type { Words } from '../core/words.ts'
import type { Stage } from './print/render.ts'

/** The words of the server's own forms and jobs (the vocabulary's words are core/words.ts). */

/** A print job's stage (api/print/render.ts). */
export const printStageWords: Record<Stage, Words> = {
  queued: { zh: '排队中', en: 'queued' },
  starting: { zh: '准备中', en: 'starting' },
  loading: { zh: '加载数据', en: 'loading data' },
  rendering: { zh: '绘制中', en: 'drawing' },
  done: { zh: '已完成', en: 'done' },
  failed: { zh: '失败', en: 'failed' },
}

/**
 * The fields of the bodies the app's forms send, for "输入有误：用户名…".
 * A field not here is named as sent (it came from a client, not a form).
 */
export const fieldWords: Record<string, Words> = {
  username: { zh: '用户名', en: 'username' },
  displayName: { zh: '姓名', en: 'name' },
  role: { zh: '角色', en: 'role' },
  unitCode: { zh: '管辖区划/网格代码', en: 'area code' },
  password: { zh: '密码', en: 'password' },
  current: { zh: '当前密码', en: 'current password' },
  next: { zh: '新密码', en: 'new password' },
  version: { zh: '版本号', en: 'version' },
  name: { zh: '名称', en: 'name' },
  note: { zh: '备注', en: 'note' },
  title: { zh: '指令名称', en: 'title' },
  reason: { zh: '原因', en: 'reason' },
  people: { zh: '人数', en: 'people' },
  deadline: { zh: '转移时限', en: 'deadline' },
  risk_level: { zh: '风险等级', en: 'risk level' },
  measures: { zh: '管控措施', en: 'measures' },
  phone: { zh: '电话', en: 'phone' },
  members: { zh: '家庭人口', en: 'members' },
  elderly_alone: { zh: '独居老人', en: 'elderly living alone' },
  left_behind_children: { zh: '留守儿童', en: 'left-behind children' },
  disabled: { zh: '残疾人', en: 'disabled people' },
  flood_exposed: { zh: '临河临坡', en: 'by a river or slope' },
}

/** How a field must be written, where its rule is a pattern a person cannot read off a regex. */
export const fieldFormats: Record<string, Words> = {
  username: { zh: '须为 3–32 位小写字母、数字或 . _ -，以字母或数字开头', en: '3–32 lower-case letters, digits, . _ -, starting with a letter or digit' },
  unitCode: { zh: '须为 12 位区划代码或 15 位网格代码', en: 'a 12-digit admin code or a 15-digit grid code' },
  phone: { zh: '须为 5–20 位数字（可含 + - 空格）', en: '5–20 digits (+ - and spaces allowed)' },
}
