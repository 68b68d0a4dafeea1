/**
 * What a problem report may start beyond its own handling (issue #20): a new
 * hazard site proposed for the register, from a report of a crack or a slide
 * where none is registered; a transfer order for the people a report says are
 * in danger. Pure: api/reports/propose-site.ts and transfer.ts follow these,
 * and the report record offers what they allow.
 */
import { levelOf, openStates, type State } from './escalation.ts'

/** The types of a hazard site in the register (data/migrations/001 hazard_sites.type). */
export const siteTypes = ['滑坡', '崩塌', '泥石流', '地面塌陷', '不稳定斜坡', '地裂缝', '地面沉降'] as const
export type SiteType = (typeof siteTypes)[number]
export const siteScales = ['特大型', '大型', '中型', '小型'] as const

/** Report types about the ground itself moving: a new hazard site may be what was found. */
export const siteReportTypes: readonly string[] = ['geohazard']

/** Report types saying people are in danger where they are: a transfer may be what is needed. */
export const dangerReportTypes: readonly string[] = ['geohazard', 'flash_flood', 'house_danger', 'refuses_transfer']

/** Why a report cannot propose a site (null: it can). */
export function siteProposalRefusal(r: { type: string; state: State; hazardSiteId: number | null }): 'not_a_site_report' | 'merged' | 'already_linked' | null {
  if (!siteReportTypes.includes(r.type)) return 'not_a_site_report'
  if (r.state === 'merged') return 'merged'
  if (r.hazardSiteId !== null) return 'already_linked'
  return null
}

/** Why a report cannot start a transfer order (null: it can). A closed or handled report has nobody left to move. */
export function transferRefusal(r: { type: string; state: State }): 'no_people_in_danger' | 'not_open' | null {
  if (!dangerReportTypes.includes(r.type)) return 'no_people_in_danger'
  if (!openStates.includes(r.state)) return 'not_open'
  return null
}

/**
 * Who confirms a proposed site into the register: the county (or the city)
 * keeps it (县级自然资源部门), so a scope of a county or wider; a township
 * proposes, it does not confirm its own proposal.
 */
export function confirmsSites(scope: string): boolean {
  const l = levelOf(scope)
  return l === 'county' || l === 'city'
}

/** Words in a reporter's note that name a kind of hazard site, most specific first. */
const siteTypeWords: [RegExp, SiteType][] = [
  [/泥石流/, '泥石流'],
  [/塌陷|陷坑|坑洞/, '地面塌陷'],
  [/沉降|下沉/, '地面沉降'],
  [/崩塌|落石|滚石|危岩/, '崩塌'],
  [/滑坡|滑动|垮塌|溜滑/, '滑坡'],
  [/裂缝|开裂|裂口/, '地裂缝'],
]

/** The site type a report's note suggests (the form's first choice; the officer corrects it): 不稳定斜坡 when it names none. */
export function suggestSiteType(note: string): SiteType {
  return siteTypeWords.find(([re]) => re.test(note))?.[1] ?? '不稳定斜坡'
}
