// The deploy suite against real Node-RED 4.x replicas.
import {deploySuite} from './suite.js'

deploySuite(4)
