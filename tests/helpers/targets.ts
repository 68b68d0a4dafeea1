import postgres from 'postgres'
import { inject } from 'vitest'
import type { Sql } from '../../db/connect.ts'

export interface Target {
  name: 'embedded' | 'postgis'
  url: string
}

/** The databases every database suite runs on: always the embedded one, and a real PostGIS when there is one. */
export function targets(): Target[] {
  const out: Target[] = [{ name: 'embedded', url: inject('embeddedUrl') }]
  const pg = inject('postgisUrl')
  if (pg) out.push({ name: 'postgis', url: pg })
  else console.warn('TEST_POSTGIS_URL is not set: suites run on the embedded database only')
  return out
}

export function client(url: string): Sql {
  return postgres(url, { onnotice: () => {}, max: 1 }) as Sql
}
