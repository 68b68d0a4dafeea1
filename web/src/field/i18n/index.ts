import { useCallback, useEffect, useState } from 'react'
import { transferStatusWords } from '../../../../core/words.ts'

export type Lang = 'zh' | 'en'
const KEY = 'gridwatch.lang'

const zh = {
  title: '网格外勤',
  lang: 'English',
  login: { title: '网格外勤 · 登录', user: '用户名', password: '密码', submit: '登录', busy: '正在登录…', offline: '没有网络，首次登录需要联网', changePassword: '请先在电脑上修改初始密码后再登录' },
  outbox: { waiting: '{n} 条待发送', none: '全部已发送', lastContact: '最后联网 {t}', never: '尚未联网', offline: '离线', sending: '正在发送…', problems: '{n} 条需处理' },
  tabs: { today: '今天', map: '地图', report: '上报' },
  today: { tasks: '三查任务', noTasks: '当前没有待办的三查任务', visits: '待走访农户', transfer: '转移状态', noTransfer: '当前没有转移指令', overdue: '已逾期', due: '应于 {t} 前', items: '{done}/{all} 项', fresh: '数据更新于 {t}', stale: '数据更新于 {t}（可能已过时），联网后自动刷新', loading: '正在载入网格数据…', chooseGrid: '选择网格', noData: '网格数据尚未下载，请联网后打开', metres: '约 {n} 米', km: '约 {n} 公里', cadre: '包保责任人 {name}：您负责的 {n} 户' },
  phase: { before: '雨前', during: '雨中', after: '雨后' },
  target: { hazard_site: '隐患点', household: '农户', grid: '网格' },
  risk: { red: '红', yellow: '黄', green: '绿' },
  visit: { record: '记录走访', note: '走访情况（可不填）', last: '上次走访 {t}', never: '从未走访', done: '已记录走访', members: '{n} 人', vulnerable: '其中需帮扶 {n} 人', call: '拨打电话' },
  task: { note: '备注（可不填）', saveNote: '保存备注', back: '返回', photo: '拍照', photoAdded: '已附照片 {kb} KB', photoBad: '无法读取这张照片' },
  transfer: { next: '改为“{s}”', more: '其他情况', people: '到达人数', confirm: '确定', counted: '{n} 人' },
  conflict: { title: '状态冲突', body: '您把该户改为“{mine}”，但已被他人改为“{current}”。', keep: '以当前状态为准', redo: '仍改为“{mine}”', rejected: '未被接受', dismiss: '知道了' },
  patrol: { on: '在岗巡查中 · 每分钟记录位置', off: '开始巡查', stop: '结束巡查', denied: '无法取得位置（请允许定位）' },
  report: {
    title: '上报问题', type: '问题类型', urgency: '紧急程度', urgencies: { normal: '一般', urgent: '紧急', critical: '特急' },
    place: '位置', locating: '正在获取手机位置…', noPosition: '未能取得手机位置（请允许定位），请选择地点', locate: '重新定位',
    phone: '我的位置（误差约 {m} 米）', tapped: '地图上点选的位置', mapOpen: '在地图上点选位置', mapClose: '收起地图', center: '网格中心', hazard: '隐患点：{name}', household: '农户：{name}',
    outside: '所选位置不在本网格内，上报可能不被接受；可改选网格内的地点',
    note: '情况说明（可不填）', photo: '拍照（最多 3 张）', photoMore: '再拍一张', photos: '已附 {n} 张照片，共 {kb} KB', removePhoto: '删除',
    photoBad: '无法读取这张照片', submit: '上报', needType: '请先选择问题类型', savedOffline: '已保存，联网后自动上报', sent: '已发送',
    mine: '我的上报', none: '还没有上报过问题', noneYet: '联网后显示您上报过的问题', waiting: '待发送', asOf: '状态更新于 {t}', made: '{t} 发现',
    states: { reported: '已上报', acknowledged: '已受理', dispatched: '处置中', handled: '已处置，待核实', closed: '已办结', merged: '已合并' },
    levels: { grid: '网格处理', village: '村处理', township: '乡镇处理', county: '县处理', city: '市处理' },
    overdue: '已超时', rejected: '上报未被接受', edit: '修改后重新上报', emergency: '情况危急时请同时电话报告乡镇值班室。',
  },
  map: { loading: '正在载入地图…', you: '我的位置', legend: '红黄绿：农户风险　▲ 隐患点　■ 避险点　虚线：转移路线　细线：相邻网格（淡点为其农户）' },
  logout: '退出登录',
}
export type FieldMessages = typeof zh

const en: FieldMessages = {
  title: 'Field work',
  lang: '中文',
  login: { title: 'Field work · log in', user: 'Username', password: 'Password', submit: 'Log in', busy: 'Logging in…', offline: 'No signal: the first login needs the network', changePassword: 'Change your initial password on a computer first, then log in here' },
  outbox: { waiting: '{n} waiting', none: 'all sent', lastContact: 'last in touch {t}', never: 'not yet in touch', offline: 'offline', sending: 'sending…', problems: '{n} to resolve' },
  tabs: { today: 'Today', map: 'Map', report: 'Report' },
  today: { tasks: 'Rain checklists', noTasks: 'No checklist to do now', visits: 'Households to visit', transfer: 'Transfer status', noTransfer: 'No transfer order now', overdue: 'overdue', due: 'by {t}', items: '{done}/{all} items', fresh: 'Data as of {t}', stale: 'Data as of {t} (may be out of date); refreshed when the signal is back', loading: 'Loading the grid…', chooseGrid: 'Choose a grid', noData: 'The grid is not on this phone yet: open it once with a signal', metres: '~{n} m', km: '~{n} km', cadre: 'Cadre {name}: the {n} households you answer for' },
  phase: { before: 'Before rain', during: 'During rain', after: 'After rain' },
  target: { hazard_site: 'Hazard site', household: 'Household', grid: 'Grid' },
  risk: { red: 'Red', yellow: 'Yellow', green: 'Green' },
  visit: { record: 'Record visit', note: 'How it went (optional)', last: 'Last visit {t}', never: 'Never visited', done: 'Visit recorded', members: '{n} people', vulnerable: '{n} needing help', call: 'Call' },
  task: { note: 'Note (optional)', saveNote: 'Save note', back: 'Back', photo: 'Photo', photoAdded: 'Photo attached, {kb} KB', photoBad: 'Could not read this photo' },
  transfer: { next: 'Mark “{s}”', more: 'Other', people: 'People arrived', confirm: 'OK', counted: '{n} people' },
  conflict: { title: 'Status conflict', body: 'You marked this household “{mine}”, but someone else changed it to “{current}”.', keep: 'Keep “current”', redo: 'Mark “{mine}” anyway', rejected: 'Not accepted', dismiss: 'OK' },
  patrol: { on: 'On patrol · position every minute', off: 'Start patrol', stop: 'End patrol', denied: 'No position (allow location access)' },
  report: {
    title: 'Report a problem', type: 'Problem', urgency: 'Urgency', urgencies: { normal: 'Normal', urgent: 'Urgent', critical: 'Critical' },
    place: 'Place', locating: 'Finding the phone’s position…', noPosition: 'No position from the phone (allow location access): choose a place', locate: 'Locate again',
    phone: 'Where I am (within about {m} m)', tapped: 'The point tapped on the map', mapOpen: 'Tap the place on the map', mapClose: 'Hide the map', center: 'Grid centre', hazard: 'Hazard site: {name}', household: 'Household: {name}',
    outside: 'This place is outside the grid: the report may be refused; choose a place in the grid instead',
    note: 'What you see (optional)', photo: 'Photo (up to 3)', photoMore: 'Another photo', photos: '{n} photos attached, {kb} KB', removePhoto: 'Remove',
    photoBad: 'Could not read this photo', submit: 'Report', needType: 'Choose the kind of problem first', savedOffline: 'Saved: it is sent when the signal is back', sent: 'Sent',
    mine: 'My reports', none: 'No reports yet', noneYet: 'Your reports are shown once the phone has a signal', waiting: 'waiting to send', asOf: 'States as of {t}', made: 'seen {t}',
    states: { reported: 'reported', acknowledged: 'acknowledged', dispatched: 'being handled', handled: 'handled, to be checked', closed: 'closed', merged: 'merged' },
    levels: { grid: 'grid handles it', village: 'village handles it', township: 'township handles it', county: 'county handles it', city: 'city handles it' },
    overdue: 'overdue', rejected: 'Report not accepted', edit: 'Change and report again', emergency: 'In danger, also call the township duty office.',
  },
  map: { loading: 'Loading the map…', you: 'You are here', legend: 'Dots: household risk  ▲ hazard site  ■ shelter  dashed: route  thin lines: neighbouring grids (faint dots: their households)' },
  logout: 'Log out',
}

const catalogs = { zh, en }

export const statusWord = (s: string, lang: Lang) => (transferStatusWords as Record<string, { zh: string; en: string }>)[s]?.[lang] ?? s

export function fill(t: string, vars: Record<string, string | number> = {}) {
  return t.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m))
}

/** Beijing time, hours and minutes (a date too when not today). */
export function clock(iso: string | number | Date, lang: Lang): string {
  const d = new Date(iso)
  const day = (x: Date) => x.toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' })
  const hm = d.toLocaleTimeString(lang === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hour12: false })
  if (day(d) === day(new Date())) return hm
  return `${d.toLocaleDateString(lang === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: 'Asia/Shanghai', month: 'numeric', day: 'numeric' })} ${hm}`
}

export function useLang() {
  const [lang, setState] = useState<Lang>(() => (localStorage.getItem(KEY) === 'en' ? 'en' : 'zh'))
  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en'
    document.title = `${catalogs[lang].title} · gridwatch`
  }, [lang])
  const setLang = useCallback((l: Lang) => {
    localStorage.setItem(KEY, l)
    setState(l)
  }, [])
  return { lang, setLang, m: catalogs[lang] }
}
