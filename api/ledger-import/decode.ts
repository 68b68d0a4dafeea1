/**
 * Text files from townships come as UTF-8 (with or without a byte-order mark)
 * or GBK (Excel on a Chinese Windows saves CSV so), and sometimes as both,
 * pasted together. Each line is judged on its own: valid UTF-8 with non-ASCII
 * characters, or not valid UTF-8. All of one kind decodes as that; a mix is an
 * error naming the lines in the minority encoding, so nothing is read as
 * mojibake.
 */
import iconv from 'iconv-lite'

export type Encoding = 'auto' | 'utf-8' | 'gbk'

export interface LineError { row: number; zh: string; en: string }

const utf8 = new TextDecoder('utf-8', { fatal: true })

function isUtf8(b: Uint8Array): boolean {
  try {
    utf8.decode(b)
    return true
  } catch {
    return false
  }
}

export function decodeText(buf: Buffer, encoding: Encoding): { text: string; encoding: 'utf-8' | 'gbk'; errors: LineError[] } {
  let body = buf
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3)
  if (encoding === 'gbk') return { text: iconv.decode(body, 'gbk'), encoding: 'gbk', errors: [] }
  const utfLines: number[] = []
  const otherLines: number[] = []
  let start = 0
  let line = 1
  for (let i = 0; i <= body.length; i++) {
    if (i === body.length || body[i] === 0x0a) {
      const l = body.subarray(start, i)
      if (l.some((c) => c >= 0x80)) (isUtf8(l) ? utfLines : otherLines).push(line)
      start = i + 1
      line++
    }
  }
  if (encoding === 'utf-8' || otherLines.length === 0) {
    const errors = otherLines.map((row) => ({ row, zh: `第 ${row} 行不是有效的 UTF-8 文本`, en: `line ${row} is not valid UTF-8 text` }))
    return { text: body.toString('utf8'), encoding: 'utf-8', errors }
  }
  if (utfLines.length === 0) return { text: iconv.decode(body, 'gbk'), encoding: 'gbk', errors: [] }
  // Both: the fewer lines are the odd ones out.
  const [odd, oddName, restName] = utfLines.length < otherLines.length ? [utfLines, 'UTF-8', 'GBK'] : [otherLines, 'GBK', 'UTF-8']
  const errors = odd.map((row) => ({
    row,
    zh: `第 ${row} 行的编码（${oddName}）与文件其余部分（${restName}）不同：请将整个文件另存为 UTF-8`,
    en: `line ${row} is encoded as ${oddName}, the rest of the file as ${restName}: save the whole file as UTF-8`,
  }))
  return { text: '', encoding: restName === 'GBK' ? 'gbk' : 'utf-8', errors }
}
