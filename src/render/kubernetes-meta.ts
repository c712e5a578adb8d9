import type {Profile} from '../profile/schema.js'
import {yamlTemplate} from './template.js'
import {selectorLabels} from '../model/replicas.js'
import {modeOf} from '../modes/index.js'

// What every rendered Kubernetes object shares: labels, metadata, the templates under templates/kubernetes.

export type Obj = Record<string, any>
export const template = (file: string): Obj => yamlTemplate('kubernetes', file)

export {selectorLabels}

export function commonLabels(profile: Profile): Record<string, string> {
  return {
    ...selectorLabels(profile),
    'app.kubernetes.io/component': 'replica',
    'app.kubernetes.io/part-of': profile.name,
    'app.kubernetes.io/managed-by': 'ff-ha',
    'app.kubernetes.io/version': profile.nodeRed.version,
  }
}

export const configMapName = (p: Profile) => `${p.name}-config`
export const headlessServiceName = (p: Profile) => `${p.name}-headless`

export function meta(profile: Profile, name: string, extra: Obj = {}): Obj {
  return {name, namespace: profile.kubernetes.namespace, labels: commonLabels(profile), ...extra}
}

/** Cookie stickiness is wanted: load-balanced with the editor on (its session and comms live on one replica). */
export function wantsSticky(profile: Profile): boolean {
  return modeOf(profile.mode).traffic.editorNeedsSticky && profile.http.editor && profile.http.sticky
}
