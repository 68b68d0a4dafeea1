import { useEffect } from 'react'
import { actsFor } from '../../../core/rules/escalation.ts'
import type { LiveFeed } from '../live/useLiveFeed.ts'
import type { ReportEvent } from './types.ts'

/** What the browser test reads: the reports this page has sounded the alarm for. */
declare global {
  interface Window {
    __gridwatchAlarms?: number[]
  }
}

let audio: AudioContext | null = null

/**
 * Browsers start an AudioContext suspended until the page has been touched:
 * the first click or key on the page makes (or wakes) it, so that a report
 * arriving later, with nobody at the keyboard, can be heard.
 */
function unlockOnFirstGesture() {
  const unlock = () => {
    try {
      audio ??= new AudioContext()
      void audio.resume()
    } catch {
      // No audio on this machine: the list and the map still show the report.
    }
  }
  window.addEventListener('pointerdown', unlock, { once: true, capture: true })
  window.addEventListener('keydown', unlock, { once: true, capture: true })
  return () => {
    window.removeEventListener('pointerdown', unlock, { capture: true })
    window.removeEventListener('keydown', unlock, { capture: true })
  }
}

/** Three short tones, high-low-high (about half a second), made on the spot: no sound file to ship or cache. */
export function beep() {
  try {
    audio ??= new AudioContext()
    if (audio.state === 'suspended') void audio.resume()
    const t0 = audio.currentTime + 0.02
    ;[880, 660, 880].forEach((hz, i) => {
      const at = t0 + i * 0.18
      const osc = audio!.createOscillator()
      const gain = audio!.createGain()
      osc.type = 'square'
      osc.frequency.value = hz
      gain.gain.setValueAtTime(0.0001, at)
      gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02)
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.15)
      osc.connect(gain).connect(audio!.destination)
      osc.start(at)
      osc.stop(at + 0.16)
    })
  } catch {
    // As above: silence is no reason to break the page.
  }
}

/**
 * The duty desk's alarm: a 特急 report that arrives at the level this user
 * acts for (filed there, or escalated to it) sounds once — once per report,
 * however many times it is heard again.
 */
export function useCriticalAlarm({ subscribe }: LiveFeed, scope: string, onAlarm?: (e: ReportEvent) => void) {
  useEffect(() => unlockOnFirstGesture(), [])
  useEffect(() => {
    const heard = new Set<number>()
    return subscribe((msg) => {
      if (msg.kind !== 'report') return
      const e = msg.data as unknown as ReportEvent
      if (e.urgency !== 'critical' || (e.action !== 'filed' && e.action !== 'escalate') || e.state !== 'reported') return
      if (!/^[0-9]{15}$/.test(e.unitCode) || !actsFor(scope, { level: e.level, gridCode: e.unitCode }) || heard.has(e.id)) return
      heard.add(e.id)
      ;(window.__gridwatchAlarms ??= []).push(e.id)
      beep()
      onAlarm?.(e)
    })
  }, [subscribe, scope, onAlarm])
}
