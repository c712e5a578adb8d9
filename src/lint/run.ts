// The core of `ff-ha lint flows`: resolve mode and options, read the files, lint, fix, format.
// The command only parses flags and calls runLintFlows; tests call this directly too.
import {statSync, writeFileSync} from 'node:fs'
import {resolve} from 'node:path'
import type {ChalkInstance} from 'chalk'
import {InputError} from '../errors.js'
import {editedFlowsFile} from '../flows/edited.js'
import {printable} from '../flows/printable.js'
import {parseFlowsText, readFlowsFile, type FlowsFile} from '../flows/parse.js'
import {readFlowsInput} from '../flows/read.js'
import type {Profile} from '../profile/schema.js'
import {lintWithFixes} from './engine.js'
import {applyFixes, writeFileAtomic, type AppliedFix} from './fix.js'
import {expandFileArgs} from './glob.js'
import {jsonReport} from './reporters/json.js'
import {reporters, type Format, type ReportContext} from './reporters/index.js'
import {summaryLine, modeLine} from './reporters/stylish.js'
import {allRules} from './rules/index.js'
import {HA_MODES, type HaMode, type LintReport, type NotFixed, type RuleSetting} from './types.js'
import {lintProfileView} from './profile-view.js'
import {STRICTEST_MODE} from '../modes/index.js'

export interface LintFlowsOptions {
  files: string[]
  mode?: HaMode
  /** The HA profile (--profile), loaded by the caller: the loader brings zod and yaml, a third of a small
   * lint's start-up, so the command imports it only when --profile is given. */
  profile?: Pick<Profile, 'mode' | 'mqtt'> & Partial<Pick<Profile, 'http' | 'nodeRed'>>
  format: Format
  output?: string
  /** Fail when there are more warnings than this; undefined = no limit. */
  maxWarnings?: number
  /** `ID=off|info|warning|error` */
  rules?: string[]
  includeDisabled?: boolean
  fix?: boolean
  dryRun?: boolean
  shareGroup?: string
  colour: ChalkInstance
  version: string
  /** Refuse flows inputs over this many bytes (`--max-size`; default DEFAULT_MAX_BYTES). */
  maxBytes?: number
  readStdin?: () => string
}

export interface LintFlowsResult {
  report: LintReport
  /** The --json shape (the report, the mode's source, and the fixes when --fix). */
  json: ReturnType<typeof jsonReport> & {fixes?: Array<AppliedFix & {path: string; written: boolean}>; notFixed?: Array<NotFixed & {path: string}>}
  /** What goes to stdout. */
  stdout: string
  /** Human notes for stderr (the summary when the report went to --output). */
  stderr: string
  exitCode: 0 | 1
}

const SETTINGS: readonly RuleSetting[] = ['off', 'info', 'warning', 'error']

export function parseRuleSettings(specs: string[] = []): Record<string, RuleSetting> {
  const out: Record<string, RuleSetting> = {}
  const known = allRules.map(r => r.meta.id)
  for (const spec of specs) {
    const m = /^([^=]+)=(.*)$/.exec(spec)
    if (!m) throw new InputError(`--rule ${spec}: expected ID=off|info|warning|error`, `for example --rule ${known[0]}=warning`)
    const [, id, level] = m
    if (!known.includes(id)) throw new InputError(`--rule ${spec}: no rule "${id}"`, `the rules are ${known.join(', ')}`)
    if (!SETTINGS.includes(level as RuleSetting)) throw new InputError(`--rule ${spec}: "${level}" is not one of off, info, warning, error`, `for example --rule ${id}=warning`)
    out[id] = level as RuleSetting
  }
  return out
}

export function runLintFlows(opts: LintFlowsOptions): LintFlowsResult {
  if (opts.files.length === 0) throw new InputError('no flows file given', 'pass a file, a quoted glob, or - for stdin: ff-ha lint flows flows.json')
  if (opts.dryRun && !opts.fix) throw new InputError('--dry-run only goes with --fix', 'add --fix to see what it would change: --fix --dry-run')
  if (opts.mode && !HA_MODES.includes(opts.mode)) throw new InputError(`--mode ${opts.mode}: expected ${HA_MODES.join(' or ')}`, `use ${HA_MODES.map(m => `--mode ${m}`).join(' or ')}`)
  const profile = opts.profile
  const mode: HaMode = opts.mode ?? profile?.mode ?? STRICTEST_MODE
  const modeSource: ReportContext['modeSource'] = opts.mode ? 'flag' : profile ? 'profile' : 'default'
  const shareGroup = opts.shareGroup ?? profile?.mqtt.shareGroup
  if (shareGroup !== undefined && !/^[^/#+$\s]+$/.test(shareGroup)) {
    throw new InputError(`--share-group ${JSON.stringify(shareGroup)}: must not contain "/", "#", "+", "$" or spaces`, 'use a plain name, for example --share-group nodered')
  }
  const rules = parseRuleSettings(opts.rules)
  const paths = expandFileArgs(opts.files)
  if (opts.fix && !opts.dryRun && paths.includes('-')) throw new InputError('--fix cannot write back to stdin', 'add --dry-run to see the change, or lint the file by its path')
  if (opts.output) refuseOutputOverInput(opts.output, paths)
  const read = {maxBytes: opts.maxBytes, limitFlag: '--max-size'}
  let stdinText: string | undefined
  let files: FlowsFile[] = paths.map(p => {
    if (p !== '-') return readFlowsFile(p, read)
    stdinText ??= (opts.readStdin ?? (() => readFlowsInput('-', read)))()
    return parseFlowsText(stdinText, '-')
  })
  const lintOptions = {mode, rules, includeDisabled: opts.includeDisabled, shareGroup, profile: profile ? lintProfileView(profile) : undefined}
  let result = lintWithFixes(files, lintOptions)
  const firstNotFixed = result.notFixed
  const fixes: Array<AppliedFix & {path: string; written: boolean}> = []
  let diff = ''
  if (opts.fix) {
    files = files.map(file => {
      const list = result.fixes.get(file.path)
      if (!list) return file
      const fixed = applyFixes(file, list)
      if (fixed.applied.length === 0) return file
      diff += fixed.diff
      if (!opts.dryRun) writeFileAtomic(file.path, fixed.pieces)
      // A loop, not push(...list): spreading 150,000 arguments overflows the stack.
      for (const a of fixed.applied) fixes.push({...a, path: file.path, written: !opts.dryRun})
      if (opts.dryRun) return file
      // The fixed file without parsing it again: the same nodes with the new values (see flows/edited.ts).
      // A new id would make the id index stale: parse again. A new type (mqtt in -> ff-ha mqtt in) is kept in
      // step by editedFlowsFile, so the nodes are reused as for any other value.
      // An inserted node (the singleton) moves every later index: parse again as well.
      return fixed.reparse ? parseFlowsText(fixed.text, file.path) : editedFlowsFile(file, fixed.edits, fixed.changes)
    })
    // Report what is left after the fix, as ESLint does.
    if (!opts.dryRun && fixes.length) result = lintWithFixes(files, lintOptions)
  }
  // What --fix leaves, from the lint before the fix (positions in the file as it was read).
  const notFixed: Array<NotFixed & {path: string}> = []
  if (opts.fix) for (const [path, list] of firstNotFixed) for (const n of list) notFixed.push({...n, path})
  const {fixes: _unused, notFixed: _left, ...report} = result
  const ctx: ReportContext = {modeSource, rules: allRules, colour: opts.colour, version: opts.version}
  const formatted = reporters[opts.format](report, ctx)
  // One node can take two fixes (its topic and its type): the note counts nodes, as it says.
  const fixNote = opts.fix ? fixSummary(new Set(fixes.map(f => `${f.path}\0${f.nodeId}`)).size, opts.dryRun ?? false) : ''
  let stdout = ''
  let stderr = ''
  if (opts.dryRun && diff) stdout += diff + '\n'
  if (opts.output) {
    try {
      writeFileSync(opts.output, formatted)
    } catch (err) {
      throw outputError(opts.output, err)
    }
    stderr += `${summaryLine(report, opts.colour)}\n${modeLine(report, ctx)}\nReport written to ${opts.output} (${opts.format}).\n`
  } else stdout += formatted
  if (fixNote) stderr += fixNote
  if (notFixed.length) stderr += notFixedNote(notFixed)
  const {errors, warnings} = report.summary
  const overWarnings = opts.maxWarnings !== undefined && opts.maxWarnings >= 0 && warnings > opts.maxWarnings
  if (overWarnings) stderr += `Too many warnings: ${warnings} (--max-warnings ${opts.maxWarnings}).\n`
  const json = {...jsonReport(report, ctx), ...(opts.fix ? {fixes, notFixed} : {})}
  return {report, json, stdout, stderr, exitCode: errors > 0 || overWarnings ? 1 : 0}
}

function outputError(output: string, err: unknown): InputError {
  const code = (err as {code?: string}).code
  if (code === 'EISDIR') return new InputError(`--output ${output}: is a directory`, `name a file for the report, for example --output ${output.replace(/\/+$/, '')}/ff-ha-lint.txt`)
  if (code === 'ENOENT' || code === 'ENOTDIR') return new InputError(`--output ${output}: its directory does not exist`, 'create the directory first, or name a file in an existing one')
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new InputError(`--output ${output}: cannot write there (${code})`, 'choose a directory you may write to')
  return new InputError(`--output ${output}: cannot write the report (${code ?? (err as Error).message})`, 'check that the directory exists and is writable')
}

/** `--output f.json` where f.json is a flows file being linted would replace the flows with the report. */
function refuseOutputOverInput(output: string, inputs: string[]): void {
  const out = identity(output)
  for (const input of inputs) {
    if (input === '-') continue
    const same = resolve(input) === resolve(output) || (out !== undefined && out === identity(input))
    if (same) {
      throw new InputError(`--output ${output}: is the flows file ${input} being linted; the report would replace the flows`, 'write the report to another file: --output ff-ha-lint.txt')
    }
  }
}

/** Device and inode of what a path names (through symlinks), or undefined when it does not exist. */
function identity(path: string): string | undefined {
  try {
    const s = statSync(path)
    return `${s.dev}:${s.ino}`
  } catch {
    return undefined
  }
}

/** The findings --fix could not rewrite, one line each (capped: a big file can have thousands). */
function notFixedNote(list: Array<NotFixed & {path: string}>): string {
  const shown = list.slice(0, 20).map(n => printable(`  ${n.path}:${n.line}:${n.column} ${n.nodeType} ${n.nodeId} (${n.ruleId}): ${n.reason}`))
  const more = list.length > 20 ? [`  and ${list.length - 20} more (--json lists them all)`] : []
  return [`Not rewritten by --fix: ${list.length} finding${list.length === 1 ? '' : 's'}.`, ...shown, ...more].join('\n') + '\n'
}

function fixSummary(n: number, dryRun: boolean): string {
  if (n === 0) return 'Nothing to fix.\n'
  return dryRun ? `Would fix ${n} node${n === 1 ? '' : 's'} (--dry-run: no file written).\n` : `Fixed ${n} node${n === 1 ? '' : 's'}.\n`
}
