/** 张三丰 → 张**: enough to tell households apart on a list, not to name anyone. */
export function maskName(name: string | null): string | null {
  if (!name) return name
  const chars = [...name]
  return chars.length <= 1 ? '*' : chars[0] + '*'.repeat(chars.length - 1)
}

/** 13812345678 → 138****5678. */
export function maskPhone(phone: string | null): string | null {
  if (!phone) return phone
  const digits = phone.replace(/\D/g, '')
  if (digits.length < 7) return '*'.repeat(digits.length)
  return digits.slice(0, 3) + '*'.repeat(digits.length - 7) + digits.slice(-4)
}

/** The personal fields of a household-like record, masked. */
export function maskPersonal<T extends { householder?: string | null; phone?: string | null }>(r: T): T {
  return { ...r, householder: maskName(r.householder ?? null), phone: maskPhone(r.phone ?? null) }
}
