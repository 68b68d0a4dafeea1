import { Hono } from 'hono'
import type { Reads } from '../../db/replica.ts'
import { readAfterOf } from '../edge/read-your-writes.ts'
import { HttpError, notFound } from '../../core/errors.ts'
import { unitSummary } from '../units/summary.ts'

export function unitRoutes(reads: Reads) {
  const app = new Hono()
  app.get('/api/units/:code', async (c) => {
    const code = c.req.param('code')
    if (!/^[0-9]{12}$/.test(code)) {
      throw new HttpError(400, 'bad_code', `区划代码须为 12 位数字，收到 "${code}"`, `an admin code has 12 digits, got "${code}"`)
    }
    const unit = await reads.run(readAfterOf(c), (sql) => unitSummary(sql, code))
    if (!unit) throw notFound({ zh: '行政区划', en: 'admin unit' }, code)
    return c.json(unit)
  })
  return app
}
