#!/usr/bin/env node
import module from 'node:module'

// Node >= 22.1 keeps the compiled code of the modules on disk (under the OS temp directory), which cuts start-up
// by a sixth; a CI run calls ff-ha many times. Before the first import of oclif, so that it is cached too.
// Node 20 has no such cache: there this is a no-op.
module.enableCompileCache?.()
const {execute} = await import('@oclif/core/execute')
await execute({dir: import.meta.url})
