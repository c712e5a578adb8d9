'use strict'
// ff-ha atomic: increment, compare-and-set or append on a shared context key, in one step on the store.
// It uses the same handle a function node gets from flow.get('$atomic'), so the node and the function
// API cannot disagree. A refused (fenced) or failed operation is a node error (catchable) with a red
// status; the message is not sent on, so nothing downstream acts on a write that did not happen.
module.exports = function (RED) {
  function FfHaAtomicNode(config) {
    RED.nodes.createNode(this, config)
    const node = this
    const scope = config.scope || 'flow' // flow | global | node
    const op = config.operation || 'increment' // increment | compareAndSet | append
    const key = config.key
    const store = config.store || undefined
    const output = config.output || 'payload'

    function context() {
      if (scope === 'global') return node.context().global
      if (scope === 'node') return node.context()
      return node.context().flow
    }

    node.on('input', async (msg, send, done) => {
      const atomic = context().get('$atomic', store)
      if (!atomic || typeof atomic.increment !== 'function') {
        node.status({fill: 'red', shape: 'ring', text: 'not a shared store'})
        return done(new Error(`context store "${store || 'default'}" is not an ff-ha shared store: set contextStorage in settings.js`))
      }
      try {
        let result
        if (op === 'increment') {
          const by = msg.by !== undefined ? Number(msg.by) : Number(config.by ?? 1)
          result = await atomic.increment(key, by)
        } else if (op === 'compareAndSet') {
          result = await atomic.compareAndSet(key, msg.expected, msg.payload)
        } else if (op === 'append') {
          result = await atomic.append(key, msg.payload)
        } else {
          throw new Error(`unknown operation "${op}"`)
        }
        RED.util.setMessageProperty(msg, output, result)
        node.status({fill: 'green', shape: 'dot', text: `${op} ${key}`})
        send(msg)
        done()
      } catch (err) {
        node.status({fill: 'red', shape: 'dot', text: err.code === 'FF_HA_FENCED' ? 'fenced' : 'error'})
        done(err)
      }
    })
  }
  RED.nodes.registerType('ff-ha atomic', FfHaAtomicNode)
}
