/** The palette lives in core/map-style/colors.ts: the published style (api/styles/) draws with it too. */
export * from '../../../core/map-style/colors.ts'
