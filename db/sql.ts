import type postgres from 'postgres'

/** A postgres.js pool (or transaction-less handle) as the app uses it; here so that connect.ts and replica.ts share it without an import circle. */
export type Sql = postgres.Sql<Record<string, unknown>>
