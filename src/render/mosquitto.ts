import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {templatesDir} from '../paths.js'
import {BugError} from '../errors.js'

export interface MosquittoOptions {
  port: number
  /** Default: every address. */
  bindAddress?: string
  /** Keep sessions and queued QoS 1 messages across broker restarts (Compose: on a volume). */
  persistence?: boolean
  /** Where persistence writes mosquitto.db; needed when persistence is on. */
  dataDir?: string
}

/** mosquitto.conf from the template: its listener and persistence lines set from the options. */
export function renderMosquittoConfig(options: MosquittoOptions): string {
  const template = readFileSync(join(templatesDir, 'mosquitto', 'mosquitto.conf'), 'utf8')
  const listener = /^listener .*$/m
  const persistence = /^persistence .*$/m
  if (!listener.test(template) || !persistence.test(template)) {
    throw new BugError('templates/mosquitto/mosquitto.conf lost its listener or persistence line')
  }
  if (options.persistence && !options.dataDir) throw new BugError('renderMosquittoConfig: persistence needs dataDir')
  const persist = options.persistence
    ? `persistence true\npersistence_location ${options.dataDir!.replace(/\/?$/, '/')}\nautosave_interval 10`
    : 'persistence false'
  return template
    .replace(listener, () => `listener ${options.port}${options.bindAddress ? ` ${options.bindAddress}` : ''}`)
    .replace(persistence, () => persist)
}
