import type {FlowNode} from '../../admin/types.js'
import type {HaMode, Rule, RuleContext} from '../types.js'

function check(node: FlowNode, index: number, ctx: RuleContext): void {
  const name = typeof node.filename === 'string' && node.filename ? node.filename : typeof node.files === 'string' ? node.files : ''
  const from = typeof node.filenameType === 'string' && node.filenameType !== 'str' ? node.filenameType : ''
  const target = !name ? '' : from ? ` named by ${from}.${name}` : ` "${name}"`
  const verb = node.type === 'file' ? 'writes' : node.type === 'file in' ? 'reads' : 'watches'
  const message =
    (
      {
        'hot-spare': `${capital(verb)} the local file${target}: after a failover the spare runs on its own disk and does not see it. Put the file on a volume the spare mounts too, or use a database / object store.`,
        'load-balanced': `${capital(verb)} the local file${target}: each replica has its own disk, so replicas write different files and read what only they wrote. Use a shared volume that allows concurrent writers, or a database / object store.`,
      } satisfies Record<HaMode, string>
    )[ctx.mode]
  ctx.report({index, message})
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

export const localFile: Rule = {
  meta: {
    id: 'local-file',
    summary: 'file, file in, watch and tail nodes: each replica has its own disk.',
    severity: {'load-balanced': 'warning', 'hot-spare': 'warning'},
    docs: 'File nodes work on the local disk of the process that runs them. Load-balanced: each replica reads and writes its own copy, and a file one replica wrote is missing on the others. Hot-spare: the spare that takes over has its own disk unless the file is on a shared volume. Fix: a shared volume (ReadWriteMany) or a database or object store.',
  },
  types: ['file', 'file in', 'watch', 'tail'],
  check,
}
