import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { en } from './en.ts'
import { zh, type Messages } from './zh.ts'

export type Lang = 'zh' | 'en'
const catalogs: Record<Lang, Messages> = { zh, en }
const STORAGE_KEY = 'gridwatch.lang'

/** Dotted keys of the message tree whose value is a string, e.g. "record.overdue". */
type Leaves<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${P}${K}` : Leaves<T[K], `${P}${K}.`>
}[keyof T & string]
export type MessageKey = Leaves<Messages>

export function format(template: string, vars: Record<string, string | number> = {}) {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m))
}

export function lookup(messages: Messages, key: string): string | undefined {
  let node: unknown = messages
  for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part]
  return typeof node === 'string' ? node : undefined
}

interface I18n {
  lang: Lang
  setLang(lang: Lang): void
  m: Messages
  t(key: MessageKey, vars?: Record<string, string | number>): string
  /** A value from a data enumeration (hazard type, role…), or the value itself when it has no translation. */
  term(group: 'roles' | 'hazardTypes' | 'dangerLevels' | 'risk' | 'levels', value: string): string
  num(n: number, digits?: number): string
}

const Ctx = createContext<I18n | null>(null)

function initialLang(): Lang {
  const fromUrl = new URLSearchParams(location.search).get('lang')
  if (fromUrl === 'zh' || fromUrl === 'en') return fromUrl
  const stored = localStorage.getItem(STORAGE_KEY)
  return stored === 'en' ? 'en' : 'zh'
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang)
  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en'
    document.title = `${catalogs[lang].appTitle} · gridwatch`
  }, [lang])
  const setLang = useCallback((l: Lang) => {
    localStorage.setItem(STORAGE_KEY, l)
    setLangState(l)
  }, [])
  const value = useMemo<I18n>(() => {
    const m = catalogs[lang]
    const nf = new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en-US')
    return {
      lang,
      setLang,
      m,
      t: (key, vars) => format(lookup(m, key) ?? key, vars),
      term: (group, value) => (m[group] as Record<string, string>)[value] ?? value,
      num: (n, digits = 0) => (digits ? n.toFixed(digits) : nf.format(Math.round(n))),
    }
  }, [lang, setLang])
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>
}

export function useI18n(): I18n {
  const v = useContext(Ctx)
  if (!v) throw new Error('useI18n outside I18nProvider')
  return v
}
