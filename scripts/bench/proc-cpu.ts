/**
 * CPU time from /proc, for a benchmark's report: of one process, of a PostgreSQL cluster (its postmaster, whose
 * cutime/cstime hold the backends that ended, plus the backends alive now), and of the whole machine.
 * Linux only; times in seconds of CPU.
 */
import fs from 'node:fs'

const TICK = 100 // USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK)

interface Stat { ppid: number; own: number; children: number }

function stat(pid: number): Stat | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
    return { ppid: Number(f[1]), own: (Number(f[11]) + Number(f[12])) / TICK, children: (Number(f[13]) + Number(f[14])) / TICK }
  } catch {
    return null
  }
}

/** A process's own CPU seconds (0 once it is gone). */
export function processCpu(pid: number | undefined): number {
  return pid ? (stat(pid)?.own ?? 0) : 0
}

/** A process and the processes it ended (waited for) or runs now, one level down. */
export function treeCpu(pid: number | undefined, filter?: (cmdline: string) => boolean): number {
  if (!pid) return 0
  const top = stat(pid)
  if (!top) return 0
  let total = filter ? 0 : top.own + top.children
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    const s = stat(Number(d))
    if (!s || s.ppid !== pid) continue
    if (filter) {
      let cmd: string
      try {
        cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8')
      } catch {
        continue
      }
      if (!filter(cmd)) continue
    }
    total += s.own
  }
  return total
}

/** The postmaster of a Debian cluster (first line of its postmaster.pid), or undefined when it is not running. */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    return Number(fs.readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]) || undefined
  } catch {
    return undefined
  }
}

/** The machine's CPU seconds busy and in all (every core), from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal (guest counted within user)
  const idle = line[3] + line[4]
  const total = line.slice(0, 8).reduce((a, b) => a + b, 0)
  return { busy: (total - idle) / TICK, total: total / TICK }
}
