import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {PAUSE_TRIES, composeFaults, kubernetesFaults} from '../../../src/drill/topology/attach.js'

// No Docker engine or Kubernetes cluster runs here: fake `docker` and `kubectl` executables on PATH
// record their argv, so that these tests check the exact command lines the drill runs.
let dir: string
let log: string
let env: NodeJS.ProcessEnv

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ff-ha-drill-fakes-'))
  log = join(dir, 'argv.log')
  for (const tool of ['docker', 'kubectl']) {
    const file = join(dir, tool)
    writeFileSync(file, `#!/bin/sh\necho "${tool} $*" >> "${log}"\n`)
    chmodSync(file, 0o755)
  }
  env = {...process.env, PATH: `${dir}:${process.env.PATH}`}
})

afterEach(() => rmSync(dir, {recursive: true, force: true}))

const calls = () => readFileSync(log, 'utf8').trim().split('\n')

/** A fake docker that knows one replica container (cid-2 = node-red-2 of profile shop) and its paused state;
 * `docker pause` fails the first $FAIL_PAUSES times with the cgroup v1 freezer's message. */
function fakeDocker(): void {
  writeFileSync(
    join(dir, 'docker'),
    `#!/bin/sh
echo "docker $*" >> "${log}"
case "$1" in
  ps) echo cid-2 ;;
  inspect)
    if [ "$2" = --format ]; then cat "${dir}/paused" 2>/dev/null || echo false
    else echo '[{"Id":"cid-2","Config":{"Labels":{"io.ff-ha.replica":"node-red-2","io.ff-ha.profile":"shop"}}}]'; fi ;;
  pause)
    n=$(cat "${dir}/pause-fails" 2>/dev/null || echo 0)
    if [ "$n" -lt "\${FAIL_PAUSES:-0}" ]; then echo $((n + 1)) > "${dir}/pause-fails"; echo "Error response from daemon: unable to freeze" >&2; exit 1; fi
    echo true > "${dir}/paused" ;;
  unpause) echo false > "${dir}/paused" ;;
esac
`,
  )
}
const actions = () => calls().filter(c => !/^docker (ps|inspect)/.test(c))
const shop = {project: 'shop', name: 'shop'}

describe('compose faults (fake docker on PATH)', () => {
  beforeEach(fakeDocker)

  it('finds the container by the profile label before every fault, then acts on it with plain docker', async () => {
    const f = composeFaults(shop, {env})
    await f.apply('crash', 'node-red-2', 123)
    expect(calls()).toEqual(['docker ps --all --quiet --no-trunc --filter label=io.ff-ha.profile=shop', 'docker inspect cid-2', "docker exec cid-2 sh -c kill -s KILL 123"])
  })

  it('replica-crash kills the whole container and starts it again on recovery; graceful stops it with its grace period', async () => {
    const f = composeFaults(shop, {env})
    const killed = await f.apply('replica-crash', 'node-red-2', 1)
    await killed.after!()
    const stopped = await f.apply('graceful', 'node-red-2', 57)
    await stopped.after!()
    expect(actions()).toEqual(['docker kill cid-2', 'docker start cid-2', 'docker stop cid-2', 'docker start cid-2'])
  })

  it('hang stops Node-RED inside the container by the pid the agent reports; freeze pauses and unpauses', async () => {
    const f = composeFaults(shop, {env})
    const hung = await f.apply('hang', 'node-red-2', 57)
    await hung.after!()
    const frozen = await f.apply('freeze', 'node-red-2', 57)
    await frozen.heal!()
    expect(actions()).toEqual(['docker exec cid-2 sh -c kill -s STOP 57', 'docker exec cid-2 sh -c kill -s CONT 57', 'docker pause cid-2', 'docker unpause cid-2'])
  })

  it('retries a pause that the freezer refused, and never reports a pause that did not take as applied', async () => {
    const retried = composeFaults(shop, {env: {...env, FAIL_PAUSES: '2'}})
    await retried.apply('freeze', 'node-red-2', 1)
    expect(actions()).toEqual(['docker pause cid-2', 'docker pause cid-2', 'docker pause cid-2'])
    rmSync(join(dir, 'pause-fails'))
    writeFileSync(join(dir, 'paused'), 'false\n')
    const never = composeFaults(shop, {env: {...env, FAIL_PAUSES: '99'}})
    await expect(never.apply('freeze', 'node-red-2', 1)).rejects.toThrow(`docker pause of node-red-2 failed ${PAUSE_TRIES} times: \`docker pause cid-2\` failed with exit code 1: Error response from daemon: unable to freeze`)
  })

  it('names a replica it cannot find, and says why partition is not run on compose', async () => {
    await expect(composeFaults(shop, {env}).apply('crash', 'node-red-9', 1)).rejects.toThrow(/no container for replica node-red-9/)
    expect(composeFaults(shop, {env}).unsupported('partition')).toMatch(/docker network disconnect/)
    expect(composeFaults(shop, {env}).unsupported('replica-crash')).toBeUndefined()
  })
})

describe('kubernetes faults (fake kubectl on PATH)', () => {
  it('crash kills Node-RED by exec, replica-crash force-deletes the pod, graceful deletes it with its grace period, hang SIGSTOPs Node-RED', async () => {
    const f = kubernetesFaults('prod', {env})
    await f.apply('crash', 'ff-ha-0', 7)
    await f.apply('replica-crash', 'ff-ha-0', 1)
    await f.apply('graceful', 'ff-ha-1', 1)
    const hung = await f.apply('hang', 'ff-ha-0', 42)
    await hung.after!()
    expect(calls()).toEqual([
      'kubectl -n prod exec ff-ha-0 -- kill -KILL 7',
      'kubectl -n prod delete pod ff-ha-0 --grace-period=0 --force',
      'kubectl -n prod delete pod ff-ha-1 --wait=false',
      'kubectl -n prod exec ff-ha-0 -- kill -STOP 42',
      'kubectl -n prod exec ff-ha-0 -- kill -CONT 42',
    ])
  })

  it('says why freeze and partition are not run on kubernetes', () => {
    const f = kubernetesFaults('prod', {env})
    expect(f.unsupported('freeze')).toMatch(/PID 1/)
    expect(f.unsupported('partition')).toMatch(/NetworkPolicy/)
  })

  it('a failing kubectl is reported in words', async () => {
    writeFileSync(join(dir, 'kubectl'), '#!/bin/sh\necho "error: pods \\"x\\" not found" >&2\nexit 1\n')
    await expect(kubernetesFaults('prod', {env}).apply('replica-crash', 'x', 1)).rejects.toThrow(/kubectl/)
  })
})
