/**
 * A datetime-local input's value read and written in Beijing time, as every
 * time on the command map is shown (web/src/i18n/when.ts): a duty PC set to
 * UTC must not file a call eight hours off.
 */
const OFFSET_MS = 8 * 3600_000

/** "2026-07-15T10:30" for the moment `d`, in Beijing time. */
export function toBeijingInput(d: Date): string {
  return new Date(d.getTime() + OFFSET_MS).toISOString().slice(0, 16)
}

/** The ISO time (with its +08:00) of a datetime-local value read as Beijing time; null when it is not one. */
export function fromBeijingInput(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value)) return null
  const iso = `${value}:00+08:00`
  return Number.isNaN(Date.parse(iso)) ? null : iso
}
