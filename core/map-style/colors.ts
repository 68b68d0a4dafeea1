/** The 红黄绿 palette and the hazard colours, shared by the map, the legend, the panels and the published style (api/styles/). */
export const riskColor = { red: '#ff3b30', yellow: '#ffcc00', green: '#34c759' } as const
export const gridFill = { red: '#d7301f', yellow: '#e0a800', green: '#1f8f4e' } as const
export const dangerColor: Record<string, string> = { '特大型': '#ff2d95', '大型': '#e040fb', '中型': '#b388ff', '小型': '#8c9eff' }
export const shelterColor = '#29b6f6'
export const routeColor = '#4dd0e1'
export const selectColor: [number, number, number] = [0, 229, 255]
/**
 * China's rainstorm signal colours (and no signal), and the halo of a site past its critical rainfall;
 * `stale`: rain that is not current (core/rules/rain-current.ts), drawn grey, never as a live colour.
 */
export const rainColor = { red: '#e53935', orange: '#fb8c00', yellow: '#fdd835', blue: '#1e88e5', none: '#1a2540', alert: '#ff1744', stale: '#6b7586' } as const
/**
 * 三查 progress per grid: hues apart from both 红黄绿 and the signal colours'
 * meaning where they can be (teal done, blue under way, amber not begun); overdue
 * is red on purpose, it is what command must see first.
 */
export const progressColor = { done: '#26a69a', in_progress: '#42a5f5', not_started: '#ffb300', overdue: '#e53935', none: '#1a2540' } as const
export type ProgressState = Exclude<keyof typeof progressColor, 'none'>
/**
 * Transfer status of a household: grey not yet told, blue told, orange on the
 * way, green safe at the shelter, teal back home; red refused, purple unreachable.
 */
export const evacColor = {
  not_notified: '#90a4ae', notified: '#42a5f5', moving: '#ff9800', at_shelter: '#00e676', returned: '#26a69a',
  refused: '#ff1744', unreachable: '#d500f9',
} as const
export type EvacStatus = keyof typeof evacColor
/**
 * Problem reports (上报) by urgency: red 特急, orange 紧急, yellow 一般 — the order of China's warning colours;
 * `overdue`: the ring around one past its level's time, drawn wider and brighter than any dot.
 */
export const reportColor = { critical: '#ff1744', urgent: '#ff9100', normal: '#ffd600', overdue: '#ff5252' } as const
