import type {FlowNode} from '../admin/types.js'
import {modeOf, type ModeId} from '../modes/index.js'
import {contextPlan} from '../model/context-storage.js'
import type {Profile} from '../profile/schema.js'

// The probe tab that ff-ha adds to the user's flows for a drill: an HTTP endpoint that answers with the
// replica's name and a sequence number, and an MQTT subscription that echoes every message (its sequence
// number, the replica's name) to a reply topic. The replica's name comes from FF_HA_REPLICA, which the
// drill sets in each agent's environment and the agent passes on to Node-RED.
//
// MQTT requests enter through `ff-ha mqtt in` (docs/design/mqtt-at-least-once.md): a request is acked only
// when the echo function and the mqtt out (which calls done() on its reply's PUBACK) are finished.
//
// MQTT, by mode (docs/design/node-red-facts.md, "MQTT by mode"):
// - hot-spare: one fixed client id and a persistent session (clean start off, session expiry 1 h,
//   autoUnsubscribe off so that stopping flows does not drop the subscription). Only the active connects;
//   the broker queues QoS 1 messages while nobody is connected and hands them to the next active, and a
//   new connection with the same id drops a stale one (the broker is a fence).
// - load-balanced: every replica has its own random client id with a clean session and subscribes to
//   $share/<group>/<topic>, so the broker spreads messages over the replicas. A fixed id there would make
//   the replicas knock each other off the broker.

export const PROBE_TAB_ID = 'ff_ha_probe_tab'
export const PROBE_PATH = '/ff-ha/probe'

export interface ProbeOptions {
  mode: ModeId
  /** Unique per drill run: keeps topics (and the hot-spare session) of two runs apart. */
  runId: string
  /** Broker host and port as the replicas reach it; undefined: no MQTT part. */
  broker?: {host: string; port: number}
  shareGroup: string
  /** Changes a label, so that a deploy of the probe has a new rev but restarts nothing that serves. */
  generation?: number
  /** The replicas have ff-ha's shared context store (hot-spare: fenced): add the fenced writer below. */
  sharedContext?: boolean
}

/** GET: the shared log of the probe's writes and the store's count of refused writes (sharedContext). */
export const PROBE_WRITES_PATH = '/ff-ha/probe/writes'

// The fenced writer (sharedContext): every 200 ms the running replica appends its name to a log in the
// shared store (the store named "shared", whatever the default), and GET PROBE_WRITES_PATH reads it fresh
// with the store's count of writes the fence refused. A frozen old active that wakes up and writes must be
// refused: after the new active's first entry, the log holds no entry of the old one.
function sharedContextWriter(z: string): FlowNode[] {
  return [
    {id: 'ff_ha_probe_ctx_tick', type: 'inject', z, name: 'fenced write', repeat: '0.2', once: true, onceDelay: '0.1', topic: '', payload: '', payloadType: 'date', x: 140, y: 220, wires: [['ff_ha_probe_ctx_write']]},
    functionNode('ff_ha_probe_ctx_write', z, 'append to the shared log', "await flow.get('$atomic', 'shared').append('ff_ha_probe_writes', env.get('FF_HA_REPLICA') || 'unknown')\nreturn null", 360, 220, [[]]),
    {id: 'ff_ha_probe_ctx_in', type: 'http in', z, name: 'probe writes', url: PROBE_WRITES_PATH, method: 'get', upload: false, swaggerDoc: '', x: 140, y: 260, wires: [['ff_ha_probe_ctx_read']]},
    functionNode(
      'ff_ha_probe_ctx_read',
      z,
      'shared log and refusals',
      "flow.get('ff_ha_probe_writes', 'shared', async (err, log) => {\n  if (err) { node.error(err, msg); return }\n  msg.payload = {log: log || [], refused: (await flow.get('$atomic', 'shared').refusals()).count}\n  node.send(msg)\n})\nreturn null",
      360,
      260,
      [['ff_ha_probe_http_out']],
    ),
  ]
}

export function probeTopics(runId: string): {request: string; reply: string} {
  return {request: `ff-ha/probe/${runId}/req`, reply: `ff-ha/probe/${runId}/res`}
}

export function probeFlows(options: ProbeOptions): FlowNode[] {
  const z = PROBE_TAB_ID
  const nodes: FlowNode[] = [
    {id: z, type: 'tab', label: 'ff-ha probe', disabled: false, info: 'Added by ff-ha failover-test for the drill; not part of your flows.'},
    {id: 'ff_ha_probe_http_in', type: 'http in', z, name: 'probe', url: PROBE_PATH, method: 'get', upload: false, swaggerDoc: '', x: 140, y: 60, wires: [['ff_ha_probe_answer']]},
    functionNode('ff_ha_probe_answer', z, 'replica and sequence', "const seq = (context.get('seq') || 0) + 1\ncontext.set('seq', seq)\nmsg.payload = {replica: env.get('FF_HA_REPLICA') || 'unknown', seq}\nreturn msg", 360, 60, [['ff_ha_probe_http_out']]),
    {id: 'ff_ha_probe_http_out', type: 'http response', z, name: '', statusCode: '200', headers: {'cache-control': 'no-store'}, x: 570, y: 60, wires: []},
    // A node whose label changes with the generation: a deploy of the next generation is a real change
    // of this tab, but the HTTP and MQTT parts are untouched by a "flows"/"nodes" deploy.
    {id: 'ff_ha_probe_generation', type: 'comment', z, name: `probe generation ${options.generation ?? 1}`, info: '', x: 140, y: 20, wires: []},
  ]
  if (options.sharedContext) nodes.push(...sharedContextWriter(z))
  if (options.broker) {
    const {request, reply} = probeTopics(options.runId)
    const hotSpare = modeOf(options.mode).singleActive
    nodes.push(
      {
        id: 'ff_ha_probe_broker',
        type: 'mqtt-broker',
        name: 'ff-ha probe broker',
        broker: options.broker.host,
        port: String(options.broker.port),
        clientid: hotSpare ? `ff-ha-probe-${options.runId}` : '',
        autoConnect: true,
        usetls: false,
        protocolVersion: '5',
        keepalive: '5',
        cleansession: !hotSpare,
        autoUnsubscribe: !hotSpare,
        sessionExpiry: hotSpare ? '3600' : '',
        birthTopic: '',
        birthQos: '0',
        birthRetain: 'false',
        birthPayload: '',
        birthMsg: {},
        closeTopic: '',
        closeQos: '0',
        closeRetain: 'false',
        closePayload: '',
        closeMsg: {},
        willTopic: '',
        willQos: '0',
        willRetain: 'false',
        willPayload: '',
        willMsg: {},
        userProps: '',
      },
      {
        id: 'ff_ha_probe_mqtt_in',
        // ff-ha's own node (nodes/ff-ha-mqtt-in.js, loaded through nodesDir): it acks a request only when the
        // echo below has finished, i.e. when the mqtt out has its reply PUBACKed by the broker. A replica that
        // dies between receive and echo leaves the request unacked, and the broker redelivers it.
        type: 'ff-ha mqtt in',
        z,
        name: 'probe requests',
        topic: hotSpare ? request : `$share/${options.shareGroup}/${request}`,
        qos: '1',
        datatype: 'json',
        broker: 'ff_ha_probe_broker',
        nl: false,
        rap: true,
        rh: 0,
        inputs: 0,
        nodeTimeout: '30',
        inflight: '10',
        x: 150,
        y: 140,
        wires: [['ff_ha_probe_echo']],
      },
      functionNode('ff_ha_probe_echo', z, 'echo with replica', `const n = (context.get('n') || 0) + 1\ncontext.set('n', n)\nconst seq = msg.payload && msg.payload.seq\nmsg = {topic: ${JSON.stringify(reply)}, qos: 1, payload: {seq, replica: env.get('FF_HA_REPLICA') || 'unknown', n}}\nreturn msg`, 360, 140, [['ff_ha_probe_mqtt_out']]),
      {id: 'ff_ha_probe_mqtt_out', type: 'mqtt out', z, name: 'probe replies', topic: '', qos: '1', retain: 'false', respTopic: '', contentType: '', userProps: '', correl: '', expiry: '', broker: 'ff_ha_probe_broker', x: 570, y: 140, wires: []},
    )
  }
  return nodes
}

/** Hot-spare with ff-ha's shared context store: the probe proves the fence (its writer). */
export function probesSharedContext(profile: Profile): boolean {
  return modeOf(profile.mode).singleActive && contextPlan(profile).shared !== null
}

/** The user's flows with the probe tab added (any earlier probe nodes replaced). */
export function withProbe(userFlows: FlowNode[], options: ProbeOptions): FlowNode[] {
  const kept = userFlows.filter(n => !n.id.startsWith('ff_ha_probe_'))
  return [...kept, ...probeFlows(options)]
}

/** A function node as the editor writes it (all the fields Node-RED 4 expects). */
function functionNode(id: string, z: string, name: string, func: string, x: number, y: number, wires: string[][]): FlowNode {
  return {id, type: 'function', z, name, func, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x, y, wires}
}
