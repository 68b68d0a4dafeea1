import { z } from 'zod'
import { urgencies } from '../../core/rules/escalation.ts'
import { statuses } from '../../core/rules/transfer.ts'

/**
 * What the field app's outbox sends: actions made on the phone, each with an
 * id the phone made (the idempotency key) and the phone's time.
 */
const id = z.number().int().positive().max(2147483647)
const at = z.iso.datetime({ offset: true })
/** A photo, base64: at most 2 MB once decoded (api/field/image.ts checks the bytes themselves). */
const photo = z.string().max(2_800_000).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64')
/** Its thumbnail, made on the phone: at most 64 KB decoded, which inspectThumb (api/field/image.ts) says; this only bounds the text. */
const thumb = z.string().max(180_000).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64')
const base = { id: z.uuid(), at }

export const fieldAction = z.discriminatedUnion('kind', [
  z.object({
    ...base, kind: z.literal('task.item'), task: id, item: z.number().int().min(1).max(100),
    done: z.boolean().optional(), note: z.string().trim().max(500).nullable().optional(), photo: photo.optional(), thumb: thumb.optional(),
  }).strict(),
  z.object({
    ...base, kind: z.literal('visit'), household: id, note: z.string().trim().max(500).optional(), photo: photo.optional(), thumb: thumb.optional(),
  }).strict(),
  z.object({
    ...base, kind: z.literal('evac.status'), order: id, household: id,
    // The status the phone saw: someone else's change meanwhile comes back as a conflict, not overwritten.
    from: z.enum(statuses), status: z.enum(statuses),
    people: z.number().int().min(0).max(60).optional(), reason: z.string().trim().min(2).max(300).optional(),
  }).strict(),
  z.object({
    ...base, kind: z.literal('track'),
    points: z.array(z.object({
      at, lon: z.number().min(73).max(136), lat: z.number().min(3).max(54), accuracy: z.number().min(0).max(100_000).optional(),
    }).strict()).min(1).max(240),
  }).strict(),
  // A problem report (上报, api/reports/file.ts): the action's id is the report's client id, so a report sent twice is one report.
  z.object({
    ...base, kind: z.literal('report'), type: z.string().max(32), urgency: z.enum(urgencies),
    lng: z.number().finite(), lat: z.number().finite(), note: z.string().trim().max(500).optional(),
    hazardSiteId: id.optional(), photos: z.array(photo).max(3).optional(),
    // thumbs[i] is photos[i]'s (phones before thumbnails send none).
    thumbs: z.array(thumb).max(3).optional(),
  }).strict().refine((a) => !a.thumbs || a.thumbs.length === (a.photos ?? []).length, { message: 'one thumbnail a photo', path: ['thumbs'] }),
])
export type FieldAction = z.infer<typeof fieldAction>
export const fieldActionKinds = ['task.item', 'visit', 'evac.status', 'track', 'report'] as const

/** At most 200 actions a request: the phone sends a longer outbox in several, in order. */
export const syncBody = z.object({ actions: z.array(fieldAction).min(1).max(200) }).strict()

/** How an action ended: done; not done because the world changed meanwhile; not done because it may not be. */
export type Outcome = 'applied' | 'conflict' | 'rejected'

/**
 * When an action counts as done: the phone's time, but never after it reached
 * us (a phone clock running fast would put it in the future).
 */
export const doneAtOf = (phoneAt: Date, receivedAt: Date) => (phoneAt.getTime() > receivedAt.getTime() ? receivedAt : phoneAt)

/** 409 means the record moved on meanwhile (a conflict to show and resolve); any other refusal is final. */
export const outcomeOf = (status: number): Outcome => (status === 409 ? 'conflict' : 'rejected')
