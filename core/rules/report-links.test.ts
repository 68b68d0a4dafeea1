import { describe, expect, it } from 'vitest'
import { confirmsSites, siteProposalRefusal, suggestSiteType, transferRefusal } from './report-links.ts'

describe('what a report may start', () => {
  it('proposes a site only from a geohazard report not merged and not yet at a site', () => {
    expect(siteProposalRefusal({ type: 'geohazard', state: 'reported', hazardSiteId: null })).toBeNull()
    expect(siteProposalRefusal({ type: 'geohazard', state: 'closed', hazardSiteId: null })).toBeNull()
    expect(siteProposalRefusal({ type: 'road_cut', state: 'reported', hazardSiteId: null })).toBe('not_a_site_report')
    expect(siteProposalRefusal({ type: 'geohazard', state: 'merged', hazardSiteId: null })).toBe('merged')
    expect(siteProposalRefusal({ type: 'geohazard', state: 'acknowledged', hazardSiteId: 7 })).toBe('already_linked')
  })

  it('starts a transfer only from an open report saying people are in danger', () => {
    for (const type of ['geohazard', 'flash_flood', 'house_danger', 'refuses_transfer']) expect(transferRefusal({ type, state: 'acknowledged' })).toBeNull()
    expect(transferRefusal({ type: 'road_cut', state: 'reported' })).toBe('no_people_in_danger')
    expect(transferRefusal({ type: 'other', state: 'reported' })).toBe('no_people_in_danger')
    expect(transferRefusal({ type: 'geohazard', state: 'handled' })).toBe('not_open')
    expect(transferRefusal({ type: 'geohazard', state: 'closed' })).toBe('not_open')
  })

  it('leaves confirming a site to a county or the city', () => {
    expect(confirmsSites('530602000000')).toBe(true)
    expect(confirmsSites('530600000000')).toBe(true)
    expect(confirmsSites('530602100000')).toBe(false)
    expect(confirmsSites('530602100201')).toBe(false)
    expect(confirmsSites('530602100201003')).toBe(false)
  })

  it('suggests the site type the note names', () => {
    expect(suggestSiteType('屋后山体出现裂缝，约 20 米')).toBe('地裂缝')
    expect(suggestSiteType('后山滑坡，裂缝在扩大')).toBe('滑坡')
    expect(suggestSiteType('公路边落石不断')).toBe('崩塌')
    expect(suggestSiteType('沟里有泥石流')).toBe('泥石流')
    expect(suggestSiteType('田中出现陷坑')).toBe('地面塌陷')
    expect(suggestSiteType('')).toBe('不稳定斜坡')
  })
})
