'use strict'
// ff-ha singleton: passes messages only on the replica that holds the named singleton lease, so that a
// repeating inject, a cron job or a polling loop does its work once while every replica runs the same
// flows (load-balanced mode). Each message that passes carries msg.singleton = {name, token}: the lease's
// fencing token, which grows at every new holder. See docs/design/singleton.md.
const {SingletonClient} = require('./lib/singleton-client.js')

// The agent hands its Node-RED the address and token of its singleton route. Read once, at load (before
// any flow starts), and removed, so that flows (env.get) and the processes they spawn never see the token.
const AGENT = {url: process.env.FF_HA_SINGLETON_URL, token: process.env.FF_HA_SINGLETON_TOKEN}
delete process.env.FF_HA_SINGLETON_URL
delete process.env.FF_HA_SINGLETON_TOKEN

function statusOf(view) {
  if (view.state === 'holder') return {fill: 'green', shape: 'dot', text: `holder (token ${view.token})`}
  if (view.state === 'standby') return {fill: 'yellow', shape: 'ring', text: view.holder ? `standby (holder ${view.holder})` : 'standby'}
  return {fill: 'red', shape: 'ring', text: `error: ${String(view.error || 'unknown').slice(0, 120)}`}
}

module.exports = function (RED) {
  function FfHaSingletonNode(config) {
    RED.nodes.createNode(this, config)
    const node = this
    const name = config.name
    let lastState = null
    const client = new SingletonClient({
      name,
      url: AGENT.url,
      token: AGENT.token,
      onView: view => {
        node.status(statusOf(view))
        // One log line per change of state, not per poll.
        if (view.state !== lastState && view.state === 'error') node.warn(`ff-ha singleton "${name}": ${view.error}`)
        lastState = view.state
      },
    })
    const problem = client.start()
    if (problem) node.error(`ff-ha singleton: ${problem}`)

    node.on('input', (msg, send, done) => {
      const grant = client.pass()
      if (grant) {
        msg.singleton = {name, token: grant.token}
        send(msg)
      }
      // Not the holder: the message ends here (on the holder the same message passes).
      done()
    })

    node.on('close', (removed, done) => {
      client.stop(removed === true).then(() => done(), () => done())
    })
  }
  RED.nodes.registerType('ff-ha singleton', FfHaSingletonNode)
}
