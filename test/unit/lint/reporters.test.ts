import Ajv from 'ajv'
import addFormats from 'ajv-formats'
import {Chalk} from 'chalk'
import {describe, expect, it} from 'vitest'
import {parseFlowsText} from '../../../src/flows/parse.js'
import {lintFiles} from '../../../src/lint/engine.js'
import {escapeData, escapeProperty, formatGithub} from '../../../src/lint/reporters/github.js'
import {formatJson} from '../../../src/lint/reporters/json.js'
import {formatJunit} from '../../../src/lint/reporters/junit.js'
import {xmlText} from '../../../src/report/junit-xml.js'
import {fingerprint, sarifLog, sarifUri} from '../../../src/lint/reporters/sarif.js'
import {formatStylish} from '../../../src/lint/reporters/stylish.js'
import {allRules} from '../../../src/lint/rules/index.js'
import type {ReportContext} from '../../../src/lint/reporters/index.js'

const ctx: ReportContext = {modeSource: 'default', rules: allRules, colour: new Chalk({level: 0}), version: '0.1.0'}
const nodes = [
  {id: 't', type: 'tab', label: 'Tab, with: "quotes" & <tags>'},
  {id: 'i1', type: 'mqtt in', z: 't', topic: 'a/b', name: '100% <hot>', x: 1, y: 1},
  {id: 'r1', type: 'rbe', z: 't', x: 1, y: 1},
]
const report = lintFiles([parseFlowsText(JSON.stringify(nodes, null, 2), 'dir/flows, one.json')], {mode: 'load-balanced'})

// What GitHub code scanning requires of an upload (docs "SARIF support for code scanning"): version 2.1.0,
// runs[].tool.driver.name, results with ruleId, message.text, a physical location with a relative uri and a
// startLine >= 1; rules with ids; partialFingerprints as strings. Written from those docs, not the full
// OASIS schema (not vendored here).
const githubSarif = {
  type: 'object',
  required: ['version', 'runs'],
  properties: {
    version: {const: '2.1.0'},
    $schema: {type: 'string', format: 'uri'},
    runs: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['tool', 'results'],
        properties: {
          tool: {
            type: 'object',
            required: ['driver'],
            properties: {
              driver: {
                type: 'object',
                required: ['name', 'rules'],
                properties: {
                  name: {type: 'string'},
                  version: {type: 'string'},
                  rules: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['id', 'shortDescription', 'defaultConfiguration'],
                      properties: {
                        id: {type: 'string'},
                        shortDescription: {type: 'object', required: ['text'], properties: {text: {type: 'string', maxLength: 1024}}},
                        fullDescription: {type: 'object', required: ['text']},
                        help: {type: 'object', required: ['text']},
                        defaultConfiguration: {type: 'object', properties: {level: {enum: ['none', 'note', 'warning', 'error']}}},
                      },
                    },
                  },
                },
              },
            },
          },
          results: {
            type: 'array',
            items: {
              type: 'object',
              required: ['ruleId', 'message', 'locations', 'partialFingerprints'],
              properties: {
                ruleId: {type: 'string'},
                ruleIndex: {type: 'integer', minimum: 0},
                level: {enum: ['none', 'note', 'warning', 'error']},
                message: {type: 'object', required: ['text'], properties: {text: {type: 'string', minLength: 1}}},
                locations: {
                  type: 'array',
                  minItems: 1,
                  items: {
                    type: 'object',
                    required: ['physicalLocation'],
                    properties: {
                      physicalLocation: {
                        type: 'object',
                        required: ['artifactLocation', 'region'],
                        properties: {
                          artifactLocation: {type: 'object', required: ['uri'], properties: {uri: {type: 'string', format: 'uri-reference', not: {pattern: '^(/|file:)'}}}},
                          region: {type: 'object', required: ['startLine'], properties: {startLine: {type: 'integer', minimum: 1}, startColumn: {type: 'integer', minimum: 1}}},
                        },
                      },
                    },
                  },
                },
                partialFingerprints: {type: 'object', additionalProperties: {type: 'string'}},
              },
            },
          },
        },
      },
    },
  },
}

describe('sarif', () => {
  const log = sarifLog(report, ctx)
  it('is what GitHub code scanning accepts', () => {
    const ajv = new Ajv.default({allErrors: true, strict: false})
    addFormats.default(ajv)
    const validate = ajv.compile(githubSarif)
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true)
  })
  it('points each result at its rule and at the node line, with a relative, encoded uri', () => {
    // The SARIF types make most properties optional; this log sets them all.
    const run = log.runs[0]
    const results = run.results!
    for (const r of results) expect(run.tool.driver.rules![r.ruleIndex!].id).toBe(r.ruleId)
    expect(results[0].locations![0].physicalLocation!.artifactLocation!.uri).toBe('dir/flows%2C%20one.json')
    expect(results[0].locations![0].physicalLocation!.region!.startLine).toBe(7)
  })
  it('fingerprints by file, rule and node id: stable when lines move', () => {
    const moved = lintFiles([parseFlowsText('\n\n\n' + JSON.stringify(nodes, null, 2), 'dir/flows, one.json')], {mode: 'load-balanced'})
    const again = sarifLog(moved, ctx)
    expect(again.runs[0].results!.map(r => r.partialFingerprints)).toEqual(log.runs[0].results!.map(r => r.partialFingerprints))
    expect(fingerprint('a', 'r', 'n')).not.toBe(fingerprint('a', 'r', 'm'))
  })
  it('makes absolute paths relative to the working directory', () => {
    expect(sarifUri('/repo/sub/f.json', '/repo')).toBe('sub/f.json')
    expect(sarifUri('-')).toBe('stdin')
  })
})

describe('github annotations', () => {
  it('escapes % CR LF in messages and also : , in properties', () => {
    expect(escapeData('100% done\r\nnext')).toBe('100%25 done%0D%0Anext')
    expect(escapeProperty('a:b,c%')).toBe('a%3Ab%2Cc%25')
  })
  it('prints one command per finding with file, line and col', () => {
    const out = formatGithub(report, ctx).trim().split('\n')
    // i1 (no qos: QoS 2) has two findings on one line, in rule order: mqtt-ack-on-arrival (info) first.
    expect(out[0]).toMatch(/^::notice file=dir\/flows%2C one\.json,line=\d+,col=\d+,title=mqtt-ack-on-arrival \(mqtt in i1\)::Acknowledges/)
    expect(out[1]).toMatch(/^::error file=dir\/flows%2C one\.json,line=\d+,col=\d+,title=mqtt-unshared-subscription \(mqtt in i1\)::Subscribes/)
    expect(out.filter(l => l.startsWith('::'))).toHaveLength(report.files[0].findings.length)
    expect(out.at(-1)).toContain('ff-ha lint flows (load-balanced)')
  })
})

describe('junit', () => {
  it('escapes XML and has a testcase per rule and a failure per error or warning', () => {
    const xml = formatJunit(report, ctx)
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/)
    // Quotes need no escape in element text (xmlbuilder2 leaves them); in attributes they are escaped.
    expect(xml).toContain('"quotes" &amp; &lt;tags&gt;')
    expect(xml).toContain('message="7:3 Subscribes to &quot;a/b&quot;')
    expect((xml.match(/<testcase /g) ?? []).length).toBe(allRules.length)
    expect((xml.match(/<failure /g) ?? []).length).toBe(report.files[0].findings.filter(f => f.severity !== 'info').length)
    // XML cannot carry most control characters even as references: shown escaped, as in the other formats.
    expect(xmlText('a\u0001b')).toBe('a\\u0001b')
  })
})

describe('stylish', () => {
  it('groups by file, shows line:col, severity, node, message and rule, and says how the mode was chosen', () => {
    const out = formatStylish(report, ctx)
    expect(out.split('\n')[0]).toBe('dir/flows, one.json')
    expect(out).toMatch(/\n {2}\d+:3 +error +mqtt in "100% <hot>" i1 on "Tab, with: \\?"quotes\\?" & <tags>": Subscribes .* mqtt-unshared-subscription\n/)
    expect(out).toMatch(/\n {2}\d+:3 +info +mqtt in "100% <hot>" i1 .*Acknowledges each QoS 2 message on arrival.* mqtt-ack-on-arrival\n/)
    expect(out).toContain('3 problems (1 error, 1 warning, 1 info) in 1 file')
    expect(out).toContain('Linted for load-balanced mode, the stricter one (no --mode or --profile given).')
  })
})

describe('control characters from the flows', () => {
  // A name that clears the screen, an id with a raw STX, a topic with a bidi override, a tab with a BEL.
  const hostile = [
    {id: 't\u0007', type: 'tab', label: 'Tab\u0007\u001b]0;title\u0007'},
    {id: 'm\u0002', type: 'mqtt in', z: 't\u0007', topic: 'a/\u202eb\u009b', name: 'x\u001b[2Jy\nz', x: 1, y: 1},
  ]
  const hostileReport = lintFiles([parseFlowsText(JSON.stringify(hostile, null, 2), 'dir/e\u001b[31mvil.json')], {mode: 'load-balanced'})
  const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

  it('the linter keeps the data as it is (the JSON format carries it escaped by JSON)', () => {
    expect(hostileReport.files[0].findings.map(f => f.nodeId)).toContain('m\u0002')
    expect(JSON.parse(formatJson(hostileReport, ctx)).files[0].findings[0].nodeName).toBe('x\u001b[2Jy\nz')
  })

  it('stylish, github and junit show every control character escaped, never raw', () => {
    const colourless = formatStylish(hostileReport, ctx)
    const coloured = formatStylish(hostileReport, {...ctx, colour: new Chalk({level: 1})})
    for (const out of [colourless, formatGithub(hostileReport, ctx), formatJunit(hostileReport, ctx)]) {
      expect(out).not.toMatch(RAW)
      expect(out).toContain('m\\u0002')
    }
    expect(colourless).toContain('mqtt in "x\\u001b[2Jy\\nz" m\\u0002 on "Tab\\u0007\\u001b]0;title\\u0007"')
    expect(colourless).toContain('a/\\u202eb\\u009b')
    expect(colourless.split('\n')[0]).toBe('dir/e\\u001b[31mvil.json')
    // With colours on, the only escape sequences are chalk's own (ESC [ digits m).
    expect(coloured.replace(/\u001b\[\d+m/g, '')).not.toMatch(RAW)
    const annotation = formatGithub(hostileReport, ctx).split('\n').find(l => l.startsWith('::error'))!
    expect(annotation).toMatch(/title=mqtt-unshared-subscription \(mqtt in m\\u0002\)::/)
  })
})
