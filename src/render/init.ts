import {existsSync, readdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'
import {errorMessage, InputError} from '../errors.js'
import {parseProfileText} from '../profile/load.js'
import type {Profile} from '../profile/schema.js'
import {brokerUrl, singleLine} from '../profile/types.js'
import {profileYaml, type InitChoices} from '../profile/template.js'
import {cliVersion, replicaImage} from './names.js'
import {renderFromProfile, type RenderResult} from './run.js'
import {checkOutDir, resolveOutDir} from './write.js'
import {SECRET_KEYS} from './kubernetes.js'

export interface InitOptions {
  choices: InitChoices
  profileFile: string
  outDir: string
  force?: boolean
}

/** The documented --json shape of `ff-ha init`. */
export interface InitResult {
  profile: string
  out: string
  files: RenderResult['files']
  nextSteps: string[]
}

/** Write ff-ha.yaml from the choices, render it, and say what to run next. */
export function initProject(options: InitOptions): InitResult {
  const {profileFile, outDir, force} = options
  if (existsSync(profileFile) && !force) {
    throw new InputError(`${profileFile} exists`, 'pass --force to overwrite it, or run `ff-ha render` to render the profile you have')
  }
  // A file or a dangling symlink at --out is refused here, before the profile is written.
  const out = resolveOutDir(outDir)
  if (existsSync(out) && readdirSync(out).length > 0 && !force) {
    throw new InputError(`${outDir} exists and is not empty`, 'pass --force to render over it, or choose another --out')
  }
  const {name, broker} = options.choices
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 40) {
    throw new InputError(`--name ${JSON.stringify(name)}: must be a DNS-1123 label of at most 40 characters (lower-case letters, digits and "-", starting and ending with a letter or digit)`, 'pass a name like --name orders')
  }
  // The same types the profile loader checks, so a flag never makes a profile that the loader then refuses.
  if (broker && broker !== 'bundled' && !brokerUrl.safeParse(broker).success) {
    throw new InputError(`--broker ${JSON.stringify(broker)}: must be a URL like mqtt://host:1883, or "bundled"`, 'pass the broker URL (mqtt, mqtts, ws, wss or tcp), "bundled" on compose, or leave --broker out')
  }
  if (!singleLine.safeParse(options.choices.flows).success) {
    throw new InputError(`--flows ${JSON.stringify(options.choices.flows)}: must be one line without control characters`, 'pass the path of the flows file, e.g. --flows flows.json')
  }
  if (broker === 'bundled' && options.choices.target !== 'compose') {
    throw new InputError('--broker bundled: a bundled broker is rendered for compose only', 'pass the URL of your broker with --broker')
  }
  const text = profileYaml(options.choices, cliVersion())
  // Check what we are about to write with the same loader that reads it later: init never writes a bad profile.
  const profile = parseProfileText(text, profileFile)
  checkOutDir(outDir, profileFile)
  const tmp = join(dirname(profileFile), `.${Date.now()}.${process.pid}.ff-ha.yaml`)
  try {
    writeFileSync(tmp, text)
    renameSync(tmp, profileFile)
  } catch (err) {
    rmSync(tmp, {force: true})
    const code = (err as {code?: string}).code
    throw new InputError(`--profile ${profileFile}: cannot write it (${code ?? errorMessage(err)})`, 'run init in a directory you can write, or pass --profile with a writable path')
  }
  const rendered = renderFromProfile({profileFile, outDir, force})
  return {profile: profileFile, out: outDir, files: rendered.files, nextSteps: nextSteps(profile, profileFile, outDir)}
}

export function nextSteps(profile: Profile, profileFile: string, outDir: string): string[] {
  const flows = join(relative('.', dirname(profileFile)) || '.', profile.nodeRed.flows)
  const {adminTokenEnv, credentialSecretEnv} = profile.secrets
  const deploy = `${adminTokenEnv}=<the admin token> ff-ha deploy ${flows} --profile ${profileFile}`
  if (profile.target === 'compose') {
    return [
      `printf '${adminTokenEnv}=%s\\n${credentialSecretEnv}=%s\\n' "$(openssl rand -hex 32)" "$(openssl rand -hex 32)" > ${join(outDir, '.env')}`,
      `docker compose -p ${profile.compose.project} -f ${join(outDir, 'compose.yaml')} up -d --build   (docker-compose 1.29: the same with docker-compose)`,
      deploy,
      `ff-ha failover-test --profile ${profileFile} --target compose`,
    ]
  }
  const image = replicaImage(profile)
  const ns = profile.kubernetes.namespace
  return [
    // The Secret needs its namespace before apply -k runs (even where the tree renders the Namespace object).
    ...(ns === 'default' ? [] : [`kubectl create namespace ${ns}`]),
    ...(profile.nodeRed.image
      ? []
      : [
          `docker build -t <registry>/${image} ${outDir} && docker push <registry>/${image}`,
          `set nodeRed.image: <registry>/${image} in ${profileFile}, then ff-ha render --profile ${profileFile}`,
        ]),
    `kubectl -n ${ns} create secret generic ${profile.secrets.kubernetesSecret} --from-literal=${SECRET_KEYS.adminToken}="$(openssl rand -hex 32)" --from-literal=${SECRET_KEYS.credentialSecret}="$(openssl rand -hex 32)"`,
    `kubectl apply -k ${outDir}`,
    deploy,
    `ff-ha failover-test --profile ${profileFile} --target kubernetes`,
  ]
}
