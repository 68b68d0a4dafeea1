/**
 * Undo/redo of the polygon being drawn: a list of states and a cursor. Every
 * finished edit (a vertex drag, a midpoint inserted, a vertex deleted, the
 * whole polygon dragged) records a state; undo and redo move the cursor; an
 * edit after an undo drops the states ahead of it, as editors do.
 */
export class DrawHistory<T> {
  private states: T[]
  private at = 0

  constructor(initial: T, private readonly same: (a: T, b: T) => boolean = (a, b) => JSON.stringify(a) === JSON.stringify(b)) {
    this.states = [initial]
  }

  get current(): T {
    return this.states[this.at]
  }
  get canUndo(): boolean {
    return this.at > 0
  }
  get canRedo(): boolean {
    return this.at < this.states.length - 1
  }

  /** Records a finished edit; false (nothing recorded) when it left the polygon as it was. */
  record(state: T): boolean {
    if (this.same(state, this.current)) return false
    this.states.splice(this.at + 1, Infinity, state)
    this.at++
    return true
  }

  undo(): T | undefined {
    if (!this.canUndo) return undefined
    return this.states[--this.at]
  }

  redo(): T | undefined {
    if (!this.canRedo) return undefined
    return this.states[++this.at]
  }
}
