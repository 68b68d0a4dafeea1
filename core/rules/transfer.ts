import { HttpError } from '../errors.ts'
import { transferStatusWords, type Words } from '../words.ts'

/** A household's way through a transfer; refused and unreachable are side exits it can come back from. */
export const statuses = ['not_notified', 'notified', 'moving', 'at_shelter', 'returned', 'refused', 'unreachable'] as const
export type Status = (typeof statuses)[number]

/** Position along the main way; refused and unreachable are off it. */
const rank: Record<Status, number> = { not_notified: 0, notified: 1, refused: 1, unreachable: 1, moving: 2, at_shelter: 3, returned: 4 }
const side = (s: Status) => s === 'refused' || s === 'unreachable'

export const statusNames: Record<Status, Words> = transferStatusWords

/** Safe: at the shelter or back home after the all-clear. */
export const safeStatuses: Status[] = ['at_shelter', 'returned']

/**
 * Checks a change from `from` to `to`. Forward moves need nothing; going back
 * (a household that left the shelter, a notice that did not reach them) needs
 * a reason, so the record says why. Refused / unreachable can be entered
 * before the shelter and left forward at any time (they were reached, they
 * changed their mind).
 */
export function checkTransition(from: Status, to: Status, reason: string | undefined): void {
  if (from === to) {
    throw new HttpError(409, 'same_status', `状态已是"${statusNames[to].zh}"`, `the status is already "${statusNames[to].en}"`)
  }
  if (reason) return
  if (to === 'returned' && from !== 'at_shelter') {
    throw new HttpError(400, 'reason_required', `未到避险点的住户标记为"已返回"须说明原因`, `marking a household "returned" that never reached the shelter needs a reason`)
  }
  const backwards = side(to) ? rank[from] > rank.moving : side(from) ? to === 'not_notified' : rank[to] < rank[from]
  if (backwards) {
    throw new HttpError(400, 'reason_required', `状态从"${statusNames[from].zh}"退回"${statusNames[to].zh}"须说明原因`,
      `going back from "${statusNames[from].en}" to "${statusNames[to].en}" needs a reason`)
  }
}
