import { useCallback, useEffect, useState } from 'react'
import { getJson, type UnitSummary } from '../api.ts'
import { useAuth } from '../auth/AuthProvider.tsx'
import type { Cover, Version } from './types.ts'

/**
 * The village being edited and its cover: the village from ?village=CODE,
 * else the first village of the user's own area (township staff land in their
 * township, and the address is rewritten to say it); then the cover and its
 * versions, loaded again by `reload` after every write. `noVillage` when the
 * user's area has none. ?grid=CODE (the link from a grid's record on the
 * command map) picks that grid once the cover has come, through `select`.
 */
export function useVillageCover(fail: (err: unknown) => void, select: (key: string) => void) {
  const { me } = useAuth()
  const [code, setCode] = useState(() => new URLSearchParams(location.search).get('village'))
  const [noVillage, setNoVillage] = useState(false)
  const [cover, setCover] = useState<Cover | null>(null)
  const [versions, setVersions] = useState<Version[]>([])

  const base = `/api/villages/${code}/cover`
  const reload = useCallback(async () => {
    const [c, v] = await Promise.all([getJson<Cover>(base), getJson<{ versions: Version[] }>(`${base}/versions`)])
    setCover(c)
    setVersions(v.versions)
    return c
  }, [base])

  useEffect(() => {
    if (code) {
      reload().then((c) => {
        const want = new URLSearchParams(location.search).get('grid')
        if (want && c.grids.some((g) => g.kind === 'basic' && g.key === want)) select(want)
      }).catch(fail)
      return
    }
    let alive = true
    firstVillage(me.user.unitCode).then((v) => {
      if (!alive) return
      if (!v) return setNoVillage(true)
      history.replaceState(null, '', `/editor?village=${v}`)
      setCode(v)
    }, () => alive && setNoVillage(true))
    return () => {
      alive = false
    }
  }, [code, reload, fail, me, select])

  return { code, noVillage, cover, versions, base, reload }
}

/** The first village (in code order) at or under a unit: the unit itself, else down its first children. */
async function firstVillage(unitCode: string): Promise<string | null> {
  let at = unitCode.slice(0, 12)
  for (let depth = 0; depth < 5; depth++) {
    const u = await getJson<UnitSummary>(`/api/units/${at}`)
    if (u.level === 'village') return u.code
    const next = [...u.children].sort((a, b) => a.code.localeCompare(b.code))[0]
    if (!next) return null
    at = next.code
  }
  return null
}
