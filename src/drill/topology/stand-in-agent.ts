// STAND-IN (remove once `ff-ha agent` is committed as src/commands/agent.ts): runs the agent core that
// issue #4 is writing, with the flags the command will have, so that the drill can be built and tested
// before the command lands. Only used when neither dist/commands/agent.js nor src/commands/agent.ts exists.
import {parseArgs} from 'node:util'
import {resolveAgentConfig} from '../../agent/config.js'
import {startAgent} from '../../agent/agent.js'

const {values} = parseArgs({
  options: {
    replica: {type: 'string'},
    profile: {type: 'string'},
    'user-dir': {type: 'string'},
    'node-red-port': {type: 'string'},
    'status-port': {type: 'string'},
    'status-host': {type: 'string'},
    'lease-file': {type: 'string'},
    settings: {type: 'string'},
  },
  strict: false,
})
const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined)
const config = resolveAgentConfig({
  replica: str('replica'),
  profile: str('profile'),
  userDir: str('user-dir'),
  nodeRedPort: str('node-red-port') ? Number(str('node-red-port')) : undefined,
  statusPort: str('status-port') ? Number(str('status-port')) : undefined,
  statusHost: str('status-host'),
  leaseFile: str('lease-file'),
  settings: str('settings'),
})
const agent = await startAgent(config)
process.on('SIGTERM', () => void agent.stop('SIGTERM'))
process.on('SIGINT', () => void agent.stop('SIGINT'))
await agent.done
process.exit(0)
