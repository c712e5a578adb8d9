// The report formats, by --format name.
import type {ChalkInstance} from 'chalk'
import type {LintReport, Rule} from '../types.js'
import {formatGithub} from './github.js'
import {formatJson} from './json.js'
import {formatJunit} from './junit.js'
import {formatSarif} from './sarif.js'
import {formatStylish} from './stylish.js'

export interface ReportContext {
  /** Where the mode came from: --mode, the profile, or the default (load-balanced). */
  modeSource: 'flag' | 'profile' | 'default'
  rules: readonly Rule[]
  colour: ChalkInstance
  version: string
}

export const FORMATS = ['stylish', 'json', 'sarif', 'junit', 'github'] as const
export type Format = (typeof FORMATS)[number]

export const reporters: Record<Format, (report: LintReport, ctx: ReportContext) => string> = {
  stylish: formatStylish,
  json: formatJson,
  sarif: formatSarif,
  junit: formatJunit,
  github: formatGithub,
}
