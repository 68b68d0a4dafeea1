import { hash, verify } from '@node-rs/argon2'
import { HttpError } from '../../core/errors.ts'

/** argon2id with the library's defaults (19 MiB, 2 passes): ~50 ms a hash here. */
export const hashPassword = (plain: string) => hash(plain)

// Verified against when the username is unknown, so that a wrong name takes
// as long as a wrong password and timing does not tell which accounts exist.
const decoy = hash('gridwatch-decoy-password')

export async function verifyPassword(stored: string | null, plain: string): Promise<boolean> {
  if (!stored) {
    await verify(await decoy, plain).catch(() => false)
    return false
  }
  return verify(stored, plain).catch(() => false)
}

/** At least 10 characters, not all of one kind; a 400 saying why otherwise. */
export function checkPasswordRules(plain: string, username: string) {
  const problems: [string, string][] = []
  if (plain.length < 10) problems.push(['至少 10 个字符', 'at least 10 characters'])
  if (plain.length > 200) problems.push(['不超过 200 个字符', 'at most 200 characters'])
  if (/^[0-9]+$/.test(plain) || /^[a-zA-Z]+$/.test(plain)) problems.push(['不能全是数字或全是字母', 'not only digits or only letters'])
  if (plain.toLowerCase().includes(username.toLowerCase())) problems.push(['不能包含用户名', 'must not contain the username'])
  if (problems.length) {
    throw new HttpError(400, 'weak_password', `密码不符合要求：${problems.map((p) => p[0]).join('；')}`, `password rejected: ${problems.map((p) => p[1]).join('; ')}`)
  }
}
