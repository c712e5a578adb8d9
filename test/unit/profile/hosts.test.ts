// The profile's hosts (several machines, issue #13): each bad list is one error at file:line:col of the field to
// change, with a hint.
import {describe, expect, it} from 'vitest'
import {InputError} from '../../../src/errors.js'
import {parseProfileText} from '../../../src/profile/load.js'
import {replicasByHost} from '../../../src/profile/hosts.js'

const ENDPOINTS = '    endpoints: [http://10.0.0.5:2379, http://10.0.0.6:2379, http://10.0.0.7:2379]\n'
const HEAD = `name: plant\nreplicas: 2\nfailover:\n  lease: etcd\n  etcd:\n${ENDPOINTS}`
const GOOD_HOSTS = 'hosts:\n  - {name: a, address: 10.0.0.5, etcd: true}\n  - {name: b, address: 10.0.0.6, etcd: true}\n  - {name: w, address: 10.0.0.7, replicas: 0, etcd: true}\n'

function errorOf(text: string): InputError {
  try {
    parseProfileText(text)
  } catch (err) {
    if (err instanceof InputError) return err
    throw err
  }
  throw new Error(`accepted: ${text}`)
}

describe('profile hosts', () => {
  it('accepts a PostgreSQL shared context across the hosts', () => {
    const p = parseProfileText(`${HEAD}nodeRed:\n  contextStorage:\n    default: shared\n    shared: {backend: postgres}\n${GOOD_HOSTS}`)
    expect(p.hosts).toHaveLength(3)
  })

  it('accepts two Node-RED hosts and a witness, and numbers the replicas across them in order', () => {
    const p = parseProfileText(HEAD + GOOD_HOSTS)
    expect(p.hosts!.map(h => [h.name, h.replicas, h.etcd])).toEqual([['a', 1, true], ['b', 1, true], ['w', 0, true]])
    expect([...replicasByHost(p)]).toEqual([['a', [0]], ['b', [1]], ['w', []]])
    expect(p.compose.etcdImage).toMatch(/etcd/)
  })

  // [what, profile text, the message (file:line:col path: ...), the hint]
  const BAD: [string, string, string, RegExp][] = [
    ['replicas that do not add up', `${HEAD.replace('replicas: 2', 'replicas: 3')}${GOOD_HOSTS}`, 'ff-ha.yaml:2:11 replicas: is 3, but the hosts run 2 replicas between them', /set replicas: 2/],
    ['two etcd members', `${HEAD}hosts:\n  - {name: a, address: 10.0.0.5, etcd: true}\n  - {name: b, address: 10.0.0.6, etcd: true}\n`, 'ff-ha.yaml:9:40 hosts.1.etcd: makes two etcd members: a quorum of two is both, so losing either host stops the lease on the other', /witness/],
    ['a file lease', `name: plant\nfailover:\n  lease: sqlite\n${GOOD_HOSTS.replace(/, etcd: true/g, '').replace('replicas: 0', 'replicas: 0, etcd: true')}`, 'ff-ha.yaml:3:10 failover.lease: is sqlite, which one host holds: with hosts the lease must be one every host reaches', /failover\.lease: etcd/],
    ['a repeated name', `${HEAD}hosts:\n  - {name: a, address: 10.0.0.5, etcd: true}\n  - {name: a, address: 10.0.0.6, etcd: true}\n  - {name: w, address: 10.0.0.7, replicas: 0, etcd: true}\n`, 'ff-ha.yaml:9:12 hosts.1.name: "a" is also host 0\'s name', /its own name/],
    ['a repeated address', `${HEAD}hosts:\n  - {name: a, address: 10.0.0.5, etcd: true}\n  - {name: b, address: 10.0.0.5}\n  - {name: w, address: 10.0.0.7, replicas: 0, etcd: true}\n`, 'ff-ha.yaml:9:24 hosts.1.address: 10.0.0.5 is also host 0\'s address: two hosts on one machine share its failures', /own address/],
    ['an etcd member the endpoints do not list', `${HEAD.replace(', http://10.0.0.7:2379', '')}${GOOD_HOSTS}`, 'ff-ha.yaml:10:53 hosts.2.etcd: runs an etcd member at http://10.0.0.7:2379, which failover.etcd.endpoints does not list: the agents would not use it', /add http:\/\/10\.0\.0\.7:2379/],
    ['a host that runs nothing', `${HEAD}${GOOD_HOSTS}  - {name: idle, address: 10.0.0.8, replicas: 0}\n`, 'ff-ha.yaml:11:47 hosts.3.replicas: host "idle" runs nothing: no replica and no etcd member', /witness/],
    ['a bundled broker', `${HEAD}mqtt: {bundled: true}\n${GOOD_HOSTS}`, 'ff-ha.yaml:7:17 mqtt.bundled: a bundled broker would run on each host, each with its own subscribers and queues', /mqtt\.broker/],
    ['every replica on one host', `${HEAD}hosts:\n  - {name: a, address: 10.0.0.5, replicas: 2, etcd: true}\n  - {name: b, address: 10.0.0.6, replicas: 0, etcd: true}\n  - {name: w, address: 10.0.0.7, replicas: 0, etcd: true}\n`, 'ff-ha.yaml:8:3 hosts: puts every replica on one host: losing it loses them all', /at least two hosts/],
    ['a sqlite shared context', `${HEAD}nodeRed: {contextStorage: shared}\n${GOOD_HOSTS}`, 'ff-ha.yaml:7:27 nodeRed.contextStorage: a sqlite shared context is a file on one host: each host would keep its own, and the replicas on different hosts would not share it', /backend: postgres/],
    ['kubernetes', `name: plant\ntarget: kubernetes\nhosts:\n  - {name: a, address: 10.0.0.5}\n  - {name: b, address: 10.0.0.6}\n`, 'ff-ha.yaml:4:3 hosts: is for target compose (one Compose project per host); kubernetes places replicas on its nodes itself', /target: compose/],
    ['an address with a port', `${HEAD}hosts:\n  - {name: a, address: "10.0.0.5:22", etcd: true}\n`, 'ff-ha.yaml:8:24 hosts.0.address: must be a host name or an IP address like 10.0.0.5 (no port, no scheme)', /./],
  ]
  for (const [what, text, message, hint] of BAD) {
    it(`refuses ${what}`, () => {
      const err = errorOf(text)
      expect(err.message).toBe(message)
      expect(err.exitCode).toBe(2)
      expect(err.hint).toMatch(hint)
    })
  }
})
