/**
 * "Now" for the features that depend on it (overdue checklists, how current
 * rain is, when a storm event is over). Production reads the system clock;
 * tests start the server with a fixed one (startServer's `clock`, not an
 * environment variable: nothing outside the code can move a running server's time).
 */
export type Clock = () => Date

export const systemClock: Clock = () => new Date()
