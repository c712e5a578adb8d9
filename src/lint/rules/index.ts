// Every rule, in the order the docs list them.
import type {Rule} from '../types.js'
import {contextReadModifyWrite} from './context-read-modify-write.js'
import {implicitState} from './implicit-state.js'
import {inboundListener} from './inbound-listener.js'
import {localFile} from './local-file.js'
import {mqttAckOnArrival} from './mqtt-ack-on-arrival.js'
import {mqttFixedClientId} from './mqtt-fixed-client-id.js'
import {mqttUnsharedSubscription} from './mqtt-unshared-subscription.js'
import {outboundConnection} from './outbound-connection.js'
import {stickySessions} from './sticky-sessions.js'
import {timerEveryReplica} from './timer-every-replica.js'

export const allRules: readonly Rule[] = [
  implicitState,
  contextReadModifyWrite,
  timerEveryReplica,
  mqttUnsharedSubscription,
  mqttFixedClientId,
  mqttAckOnArrival,
  inboundListener,
  stickySessions,
  outboundConnection,
  localFile,
]
