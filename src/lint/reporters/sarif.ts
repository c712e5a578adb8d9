// SARIF 2.1.0 for GitHub code scanning: rule metadata, physical locations relative to the working
// directory (the repository root in CI), and partial fingerprints that survive edits elsewhere in the file
// (rule + file + node id: Node-RED ids are stable while lines move).
import {createHash} from 'node:crypto'
import {isAbsolute, relative, sep} from 'node:path'
import type {Log, ReportingDescriptor, Result} from 'sarif'
import type {LintReport, Severity} from '../types.js'
import type {ReportContext} from './index.js'

const LEVEL: Record<Severity | 'off', Result.level> = {error: 'error', warning: 'warning', info: 'note', off: 'none'}

export function sarifUri(path: string, cwd = process.cwd()): string {
  if (path === '-') return 'stdin'
  const rel = isAbsolute(path) ? relative(cwd, path) : path
  return rel.split(sep).map(encodeURIComponent).join('/').replace(/^(\.\/)+/, '')
}

export function sarifLog(report: LintReport, ctx: ReportContext): Log {
  const rules = ctx.rules.map((r): ReportingDescriptor => ({
    id: r.meta.id,
    name: r.meta.id.replace(/(^|-)(\w)/g, (_m, _d, ch: string) => ch.toUpperCase()),
    shortDescription: {text: r.meta.summary},
    fullDescription: {text: r.meta.docs},
    help: {text: r.meta.docs, markdown: `**${r.meta.summary}**\n\n${r.meta.docs}`},
    defaultConfiguration: {level: LEVEL[r.meta.severity[report.mode]]},
    properties: {tags: ['node-red', 'high-availability', report.mode], fixable: Boolean(r.meta.fixable)},
  }))
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]))
  const results = report.files.flatMap(file =>
    file.findings.map((f): Result => ({
      ruleId: f.ruleId,
      ...(ruleIndex.has(f.ruleId) ? {ruleIndex: ruleIndex.get(f.ruleId)} : {}),
      level: LEVEL[f.severity],
      message: {text: `${f.nodeType}${f.nodeName ? ` "${f.nodeName}"` : ''} (${f.nodeId})${f.tab ? ` on "${f.tab}"` : ''}: ${f.message}`},
      locations: [
        {
          physicalLocation: {
            artifactLocation: {uri: sarifUri(file.path), ...(file.path === '-' ? {} : {uriBaseId: '%SRCROOT%'})},
            region: {startLine: f.line, startColumn: f.column},
          },
          logicalLocations: [{name: f.nodeId, fullyQualifiedName: `${f.tab || '(global)'}/${f.nodeId}`, kind: 'object'}],
        },
      ],
      partialFingerprints: {'ffHaNode/v1': fingerprint(sarifUri(file.path), f.ruleId, f.nodeId)},
      properties: {nodeType: f.nodeType, tab: f.tab},
    })),
  )
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {driver: {name: 'ff-ha', informationUri: 'https://github.com/ff-ha/ff-ha', version: ctx.version, semanticVersion: ctx.version, rules}},
        columnKind: 'utf16CodeUnits',
        originalUriBaseIds: {'%SRCROOT%': {uri: pathToFileUri(process.cwd())}},
        results,
      },
    ],
  }
}

export function fingerprint(uri: string, ruleId: string, nodeId: string): string {
  return createHash('sha256').update(`${uri}\0${ruleId}\0${nodeId}`).digest('hex').slice(0, 32)
}

function pathToFileUri(dir: string): string {
  return 'file://' + dir.split(sep).map(encodeURIComponent).join('/').replace(/\/?$/, '/')
}

export function formatSarif(report: LintReport, ctx: ReportContext): string {
  return JSON.stringify(sarifLog(report, ctx), null, 2) + '\n'
}
