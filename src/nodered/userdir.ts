import {mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

const RUNTIME_FILE = '.config.runtime.json'

/**
 * Make the runtime boot with flows stopped. Node-RED persists the stop/start state as runtimeFlowState
 * in .config.runtime.json and honours it at every boot; a replica that was started last time boots
 * started. (Not --safe: any deploy to a safe-mode runtime starts its flows.) Keeps the file's other keys.
 */
export function ensureBootsStopped(userDir: string): void {
  mkdirSync(userDir, {recursive: true})
  const file = join(userDir, RUNTIME_FILE)
  let current: Record<string, unknown> = {}
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8'))
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) current = parsed
  } catch {
    // missing or unreadable: Node-RED would start flows; write a fresh one
  }
  if (current.runtimeFlowState === 'stop') return
  const tmp = `${file}.ff-ha-${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify({...current, runtimeFlowState: 'stop'}, null, 4))
  renameSync(tmp, file)
}

export function readRuntimeFlowState(userDir: string): string | undefined {
  try {
    return JSON.parse(readFileSync(join(userDir, RUNTIME_FILE), 'utf8')).runtimeFlowState
  } catch {
    return undefined
  }
}
