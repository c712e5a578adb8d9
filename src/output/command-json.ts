// The --json output of every command, by command id: the one place scripts/gen-command-schemas.js reads
// (with the TypeScript checker) to write schemas/commands/*.json. Each command's execute() returns
// CommandResult<CommandJson[id]>, so the printed value, its type and its schema come from the same types.
// Types only: nothing here is loaded at run time.
import type {ErrorJson} from '../base-command.js'
import type {DeployReport} from '../deploy/types.js'
import type {DrillJson} from '../drill/report/json.js'
import type {LintFlowsResult} from '../lint/run.js'
import type {InitResult} from '../render/init.js'
import type {RenderResult} from '../render/run.js'

export interface CommandJson {
  /** `ff-ha agent --json`: printed once, when the agent has stopped. */
  agent: {replica: string; /** Why it stopped: the signal, or what ended it. */ stopped: string}
  /** `ff-ha deploy --json`: the deploy report. A failed deploy prints the error shape, its report in error.report. */
  deploy: DeployReport
  /** `ff-ha failover-test --json`: the drill report without the raw timelines (they go to the HTML report). */
  'failover-test': DrillJson
  /** `ff-ha init --json`: what was written and what to run next. */
  init: InitResult
  /** `ff-ha lint flows --json`: the findings by file, where the mode came from, and the fixes with --fix. */
  'lint flows': LintFlowsResult['json']
  /** `ff-ha render --json`: the files rendered (or compared with --check) and their status. */
  render: RenderResult
  /** Any command with --json, when it fails with an error (exit 1 or 2): this instead of its report. */
  error: ErrorJson
}
