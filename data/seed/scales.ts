import { provincePrefectures, type Prefecture } from './prefectures.ts'

/** City-wide figures for Zhaotong (see shared/DOMAIN.md). */
export const cityTotals = {
  townships: 150,
  villages: 1407,
  grids: 30700,
  microGrids: 151000,
  households: 1_800_000,
  hazardSites: 3500,
}

export interface Scale {
  name: string
  /** County codes (6 digits) to generate; every county when undefined. */
  counties?: string[]
  /** Fraction of each county's real counts (1 = full density). */
  density: number
  /** At least this many townships a county (tests need two to test one against the other). */
  minTownships?: number
  /** The prefectures written, each with the 11 counties (Zhaotong's outlines moved); Zhaotong alone when undefined. */
  prefectures?: Prefecture[]
}

export const scales: Record<string, Scale> = {
  // One county at full density: what the embedded database is for.
  demo: { name: 'demo', counties: ['530602'], density: 1 },
  // The whole city: for a real PostGIS.
  full: { name: 'full', density: 1 },
  // Eight prefectures the size of Zhaotong (≈14.4 M households): how much one PostgreSQL holds (bench/province.md).
  province: { name: 'province', density: 1, prefectures: provincePrefectures },
  // The smallest county at a tenth of its density: for the test suite.
  test: { name: 'test', counties: ['530626'], density: 0.1, minTownships: 2 },
}
