import {describe, expect, it} from 'vitest'
import {alive, exited, runCommand, runCommandSync, startProcess, stopProcess} from '../../../src/process/run.js'
import {pollUntil} from '../../../src/io/poll.js'

// The one process runner (execa). Real processes: sh and sleep.
describe('process runner', () => {
  it('stopProcess takes the whole group: the child and what it started, also when the child is stopped (SIGSTOP)', async () => {
    const child = startProcess('sh', ['-c', 'sleep 60 & echo $!; wait'], {stdout: 'pipe'})
    const grandchild = Number(await new Promise<string>(resolve => child.stdout!.once('data', d => resolve(String(d).trim()))))
    expect(alive(grandchild)).toBe(true)
    process.kill(child.pid!, 'SIGSTOP')
    await stopProcess(child, {graceMs: 5000})
    expect(exited(child)).toBe(true)
    await pollUntil(() => !alive(grandchild), {timeoutMs: 10_000, what: `the group's sleep ${grandchild} gone`})
  })

  it('stopProcess escalates to SIGKILL when SIGTERM is ignored, after the grace period', async () => {
    const child = startProcess('sh', ['-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done'], {stdout: 'pipe'})
    await new Promise(resolve => child.stdout!.once('data', resolve))
    await stopProcess(child, {graceMs: 200})
    expect(child.signalCode).toBe('SIGKILL')
  })

  it('runCommand and runCommandSync never reject: the result says what happened', async () => {
    expect(await runCommand('sh', ['-c', 'echo out; echo err >&2'])).toMatchObject({ok: true, stdout: 'out', stderr: 'err'})
    expect(await runCommand('sh', ['-c', 'echo "first line" >&2; echo second >&2; exit 3'])).toMatchObject({ok: false, exitCode: 3, why: 'first line'})
    expect(await runCommand('no-such-program-ff-ha', [])).toMatchObject({ok: false, code: 'ENOENT'})
    expect(await runCommand('sleep', ['5'], {timeoutMs: 100})).toMatchObject({ok: false, timedOut: true})
    expect(runCommandSync('sh', ['-c', 'echo banner'])).toMatchObject({ok: true, stdout: 'banner'})
  })
})
