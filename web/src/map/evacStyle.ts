/** The 'evac' tile source's URL; `version` changes on every live event so MapLibre asks again. */
export const evacTiles = (origin: string, version: number) => [`${origin}/tiles/evac/{z}/{x}/{y}.mvt?v=${version}`]

