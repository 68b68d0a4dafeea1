/** A Server-Sent Events client for tests: parses the stream as a browser's EventSource would. */
export interface SseMessage {
  id?: string
  event: string
  data: string
}

export interface SseStream {
  messages: SseMessage[]
  /** Resolves with the first message (from the start of the stream) that `match` accepts. */
  waitFor(match: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>
  status: number
  /** The answer's headers (a proxy in front may add its own). */
  headers: Headers
  close(): void
}

export async function openSse(url: string, headers: Record<string, string>): Promise<SseStream> {
  const abort = new AbortController()
  const r = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: abort.signal })
  const messages: SseMessage[] = []
  const waiters = new Set<() => void>()
  const stream: SseStream = {
    messages,
    status: r.status,
    headers: r.headers,
    close: () => abort.abort(),
    waitFor(match, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = messages.find(match)
          if (!m) return false
          waiters.delete(check)
          clearTimeout(timer)
          resolve(m)
          return true
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`no matching event in ${timeoutMs} ms; got ${messages.map((m) => `${m.id}:${m.event}`).join(', ')}`))
        }, timeoutMs)
        if (!check()) waiters.add(check)
      })
    },
  }
  if (r.status !== 200 || !r.body) return stream
  void (async () => {
    const decoder = new TextDecoder()
    let buf = ''
    try {
      for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true })
        let end: number
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end)
          buf = buf.slice(end + 2)
          const m: SseMessage = { event: 'message', data: '' }
          const data: string[] = []
          let any = false
          for (const line of block.split('\n')) {
            if (!line || line.startsWith(':')) continue
            const i = line.indexOf(':')
            const field = i < 0 ? line : line.slice(0, i)
            const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '')
            if (field === 'id') m.id = value
            else if (field === 'event') m.event = value
            else if (field === 'data') data.push(value)
            else continue
            any = true
          }
          if (!any) continue
          m.data = data.join('\n')
          messages.push(m)
          for (const w of [...waiters]) w()
        }
      }
    } catch {
      // aborted
    }
  })()
  return stream
}
