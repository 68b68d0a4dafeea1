/**
 * What the phone keeps (IndexedDB): `kv` holds the session, the grid's data and
 * small settings; `outbox` the actions not yet answered, in the order they were
 * made (an auto-increment key). A few lines over the raw API instead of a package.
 */
const DB_NAME = 'gridwatch-field'
let opening: Promise<IDBDatabase> | null = null

function open(): Promise<IDBDatabase> {
  opening ??= new Promise((resolve, reject) => {
    const r = indexedDB.open(DB_NAME, 1)
    r.onupgradeneeded = () => {
      r.result.createObjectStore('kv')
      r.result.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true })
    }
    r.onsuccess = () => resolve(r.result)
    r.onerror = () => reject(r.error)
  })
  return opening
}

function done<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

async function store(name: 'kv' | 'outbox', mode: IDBTransactionMode) {
  return (await open()).transaction(name, mode).objectStore(name)
}

export const kv = {
  async get<T>(key: string): Promise<T | undefined> {
    return done((await store('kv', 'readonly')).get(key)) as Promise<T | undefined>
  },
  async set(key: string, value: unknown) {
    await done((await store('kv', 'readwrite')).put(value, key))
  },
  async del(key: string) {
    await done((await store('kv', 'readwrite')).delete(key))
  },
}

/** An action made on the phone, as the server takes it (api/field/actions.ts). */
export type Action =
  | { id: string; at: string; kind: 'task.item'; task: number; item: number; done?: boolean; note?: string | null; photo?: string; thumb?: string }
  | { id: string; at: string; kind: 'visit'; household: number; note?: string; photo?: string; thumb?: string }
  | { id: string; at: string; kind: 'evac.status'; order: number; household: number; from: string; status: string; people?: number; reason?: string }
  | { id: string; at: string; kind: 'track'; points: { at: string; lon: number; lat: number; accuracy?: number }[] }
  | {
    id: string; at: string; kind: 'report'; type: string; urgency: 'normal' | 'urgent' | 'critical'; lng: number; lat: number
    note?: string; hazardSiteId?: number; photos?: string[]; thumbs?: string[]
  }

/** An action as the screen makes it: the outbox gives it its id and time. */
export type NewAction = Action extends infer A ? (A extends Action ? Omit<A, 'id' | 'at'> & { at?: string } : never) : never

export interface Answer {
  id: string; kind: Action['kind']; outcome: 'applied' | 'conflict' | 'rejected'; doneAt: string; receivedAt: string
  status?: number; error?: { code: string; zh: string; en: string }; current?: string; replay?: boolean
}

/** An outbox entry: waiting to be sent, or answered with a conflict / refusal the worker has not dealt with yet. */
export interface Entry {
  seq?: number
  userId: number
  action: Action
  state: 'waiting' | 'conflict' | 'rejected'
  answer?: Answer
}

export const outbox = {
  async add(e: Entry): Promise<number> {
    return Number(await done((await store('outbox', 'readwrite')).add(e)))
  },
  /** Every entry, oldest first. */
  async all(): Promise<Entry[]> {
    return done((await store('outbox', 'readonly')).getAll()) as Promise<Entry[]>
  },
  async put(e: Entry) {
    await done((await store('outbox', 'readwrite')).put(e))
  },
  async remove(seqs: number[]) {
    const s = await store('outbox', 'readwrite')
    await Promise.all(seqs.map((k) => done(s.delete(k))))
  },
}
