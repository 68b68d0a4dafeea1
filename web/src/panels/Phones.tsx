import { Fragment, type ReactNode } from 'react'

/**
 * Mobile numbers (also masked, 138****5678) and landlines with their area
 * code, not inside a longer run of digits such as a household code.
 */
const PHONE = /(?<![\d*])(?:(?:\+?86[- ]?)?1[3-9]\d[\d*]{4}\d{4}|0\d{2,3}-\d{7,8})(?![\d*])/g

/**
 * Text with each phone number in it kept on one line: in a narrow panel a
 * number broken across two lines was read (and dialled) as two.
 */
export function withPhones(text: string | null | undefined): ReactNode {
  if (!text) return text
  const out: ReactNode[] = []
  let last = 0
  for (const match of text.matchAll(PHONE)) {
    out.push(text.slice(last, match.index), <span key={match.index} className="phone">{match[0]}</span>)
    last = match.index + match[0].length
  }
  if (!out.length) return text
  out.push(text.slice(last))
  return <Fragment>{out}</Fragment>
}
