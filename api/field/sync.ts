import { authorizeUser, type SessionUser } from '../auth/guard.ts'
import type { Sql } from '../../db/connect.ts'
import { auditEvent, writeTx, type Tx } from '../../db/write.ts'
import { HttpError } from '../../core/errors.ts'
import { fileReportIn } from '../reports/file.ts'
import { moveHousehold, StatusConflict } from '../evac/updates.ts'
import { recordVisit } from '../households/visits.ts'
import { tickTaskItem } from '../rain/tasks.ts'
import { doneAtOf, outcomeOf, type FieldAction, type Outcome } from './actions.ts'
import { inspectImage, inspectThumb } from './image.ts'

/** The answer for one action, stored with it: a replay gets exactly this again. */
export interface ActionAnswer {
  id: string
  kind: FieldAction['kind']
  outcome: Outcome
  /** When it counts as done (the phone's time, at most the arrival) and when it arrived. */
  doneAt: string
  receivedAt: string
  result?: Record<string, unknown>
  status?: number
  error?: { code: string; zh: string; en: string }
  /** A transfer status conflict: the status the household has now. */
  current?: string
  /** True when this answer was stored by an earlier send of the same action. */
  replay?: boolean
}

/** A photo sent with an action, checked before anything is written: a bad file refuses the action. */
function photoOf(a: FieldAction) {
  if (!('photo' in a) || !a.photo) return null
  return checkedPhoto(a.photo, a.thumb)
}

function checkedPhoto(base64: string, thumbBase64?: string) {
  const bytes = Buffer.from(base64, 'base64')
  const info = inspectImage(bytes)
  const tb = thumbBase64 ? Buffer.from(thumbBase64, 'base64') : null
  const thumb = tb ? { bytes: tb, ...inspectThumb(tb, info) } : null
  return { bytes, ...info, thumb }
}

async function storePhoto(tx: Tx, user: SessionUser, a: FieldAction, photo: ReturnType<typeof checkedPhoto>, unitCode: string, target: string, doneAt: Date) {
  const [p] = await tx<{ id: string }[]>`
    INSERT INTO field_photos (user_id, action_id, unit_code, target, mime, width, height, bytes, taken_at, thumb, thumb_mime)
    VALUES (${user.id}, ${a.id}, ${unitCode}, ${target}, ${photo.mime}, ${photo.width}, ${photo.height}, ${photo.bytes}, ${doneAt.toISOString()},
            ${photo.thumb?.bytes ?? null}, ${photo.thumb?.mime ?? null})
    RETURNING id`
  return Number(p.id)
}

/** Does one action through the feature functions the desktop uses (their rules, their area checks), as of `doneAt`. */
async function perform(tx: Tx, user: SessionUser, a: FieldAction, now: Date, doneAt: Date): Promise<Record<string, unknown>> {
  switch (a.kind) {
    case 'task.item': {
      const photo = photoOf(a)
      const r = await tickTaskItem(tx, user, { task: a.task, item: a.item, done: a.done, note: a.note }, now, doneAt)
      const photoId = photo ? await storePhoto(tx, user, a, photo, r.unitCode, `task:${a.task}/${a.item}`, doneAt) : undefined
      return { task: a.task, item: a.item, status: r.status, ticked: r.ticked, photoId }
    }
    case 'visit': {
      const photo = photoOf(a)
      const v = await recordVisit(tx, user, a.household, { note: a.note, at: doneAt })
      const photoId = photo ? await storePhoto(tx, user, a, photo, v.gridCode, `household:${a.household}`, doneAt) : undefined
      return { household: a.household, visitId: Number(v.id), visitedAt: v.visited_at, photoId }
    }
    case 'evac.status': {
      const r = await moveHousehold(tx, user, a.order, a.household, { from: a.from, status: a.status, people: a.people, reason: a.reason }, doneAt)
      return { order: a.order, household: a.household, from: r.from, status: r.status, people: r.people, at: r.at }
    }
    case 'track': {
      // Patrol is field work: the roles that visit households walk.
      authorizeUser(user, 'household.visit')
      const pts = a.points
      await tx`
        INSERT INTO field_tracks (user_id, unit_code, at, geom, accuracy_m)
        SELECT ${user.id}, ${user.unitCode}, least(p.at, ${now.toISOString()}::timestamptz), ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326), p.acc
        FROM unnest(${pts.map((p) => p.at)}::timestamptz[], ${pts.map((p) => p.lon)}::float8[], ${pts.map((p) => p.lat)}::float8[],
                    ${pts.map((p) => p.accuracy ?? null)}::float4[]) AS p(at, lon, lat, acc)`
      return { points: pts.length }
    }
    case 'report': {
      // Every photo checked before anything is filed: one bad file refuses the report.
      const photos = (a.photos ?? []).map((p, i) => checkedPhoto(p, a.thumbs?.[i]))
      const r = await fileReportIn(tx, user, {
        type: a.type, urgency: a.urgency, lng: a.lng, lat: a.lat, note: a.note ?? '', hazardSiteId: a.hazardSiteId,
        clientId: a.id, at: doneAt.toISOString(),
      }, now)
      // Filed before (the same id through POST /api/reports): its photos came with it, or never will.
      const photoIds: number[] = []
      if (r.created) for (const p of photos) photoIds.push(await storePhoto(tx, user, a, p, r.gridCode, `report:${r.id}`, doneAt))
      return { report: r.id, created: r.created, photoIds }
    }
  }
}

/**
 * Applies one action exactly once. Its id is claimed first (a second send
 * waits for the first to commit, then finds it): a replay returns the stored
 * answer and changes nothing. The work runs in a savepoint, so a refusal
 * (409 conflict, 403 outside the area, 400…) is stored as the answer with
 * nothing else written; any other failure rolls the claim back too, and the
 * phone sends again later.
 */
export async function applyAction(sql: Sql, user: SessionUser, a: FieldAction, now: Date): Promise<ActionAnswer> {
  const phoneAt = new Date(a.at)
  const doneAt = doneAtOf(phoneAt, now)
  return writeTx(sql, user, async (tx) => {
    const claimed = await tx`
      INSERT INTO field_actions (user_id, id, kind, phone_at, done_at, received_at)
      VALUES (${user.id}, ${a.id}, ${a.kind}, ${phoneAt.toISOString()}, ${doneAt.toISOString()}, ${now.toISOString()})
      ON CONFLICT DO NOTHING RETURNING id`
    if (!claimed.length) {
      const [stored] = await tx<{ answer: ActionAnswer }[]>`SELECT answer FROM field_actions WHERE user_id = ${user.id} AND id = ${a.id}`
      return { ...stored.answer, replay: true }
    }
    const head = { id: a.id, kind: a.kind, doneAt: doneAt.toISOString(), receivedAt: now.toISOString() }
    let answer: ActionAnswer
    try {
      // A refusal rolls back the savepoint's live event with the rest of its work (api/events/publish.ts).
      const result = await tx.savepoint((sp) => perform(sp, user, a, now, doneAt))
      answer = { ...head, outcome: 'applied', result }
      // The audit keeps both times: when it was done on the phone, when it arrived.
      await auditEvent(tx, {
        action: `field.${a.kind}`, table: 'field_actions', rowId: a.id,
        after: { kind: a.kind, phoneAt: phoneAt.toISOString(), doneAt: head.doneAt, receivedAt: head.receivedAt, ...result },
      })
    } catch (e) {
      if (!(e instanceof HttpError) || e.status >= 500) throw e
      answer = {
        ...head, outcome: outcomeOf(e.status), status: e.status, error: { code: e.code, zh: e.zh, en: e.en },
        ...(e instanceof StatusConflict ? { current: e.current } : {}),
      }
    }
    await tx`UPDATE field_actions SET outcome = ${answer.outcome}, answer = ${tx.json(answer as never)} WHERE user_id = ${user.id} AND id = ${a.id}`
    return answer
  })
}

/** A batch from the outbox, in its order; each action on its own (one refused does not hold back the rest). */
export async function applyBatch(sql: Sql, user: SessionUser, actions: FieldAction[], now: () => Date): Promise<ActionAnswer[]> {
  const out: ActionAnswer[] = []
  for (const a of actions) out.push(await applyAction(sql, user, a, now()))
  return out
}
