/**
 * A clock a test sets and moves: the server's "now" (startServer's `clock`),
 * so what depends on the time (overdue checklists, how current rain is, when
 * a storm event is over) reads the same whatever the hour the suite runs at.
 */
export interface TestClock {
  (): Date
  set(t: Date | string | number): void
}

export function testClock(start: Date | string | number = 0): TestClock {
  let t = new Date(start).getTime()
  const clock = (() => new Date(t)) as TestClock
  clock.set = (v) => void (t = new Date(v).getTime())
  return clock
}
