import { log } from '../core/log.ts'

/**
 * Runs a long-lived command: `start` brings it up and returns how to close
 * it, which Ctrl-C or SIGTERM then calls; a failure to start exits 1 with the reason.
 */
export async function runUntilStopped(start: () => Promise<() => Promise<void>>) {
  try {
    const close = await start()
    const stop = async () => {
      log.info('正在停止 / stopping…')
      await close()
      process.exit(0)
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  } catch (err) {
    log.error(`启动失败 / failed to start: ${(err as Error).message}`)
    process.exit(1)
  }
}
