import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {parse} from 'yaml'
import type {Profile} from '../profile/schema.js'
import type {Obj} from './kubernetes-meta.js'

// An existing StatefulSet's spec may change only in 'replicas', 'ordinals', 'template', 'updateStrategy',
// 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' (kubernetes
// pkg/apis/apps/validation ValidateStatefulSetUpdate); `kubectl apply` of any other change is refused with
// "spec: Forbidden: updates to statefulset spec for fields other than ...". Of what ff-ha renders, these are.
const FIXED_STATEFULSET_FIELDS = ['volumeClaimTemplates', 'selector', 'serviceName', 'podManagementPolicy'] as const

/**
 * Warnings for a render that changes a field an existing StatefulSet cannot take, comparing the
 * statefulset.yaml already in outDir (what was applied, presumably) with the new one; each says how to recreate.
 */
export function statefulSetRecreateWarnings(profile: Profile, outDir: string, files: Record<string, string>): string[] {
  const file = join(outDir, 'statefulset.yaml')
  const next = files['statefulset.yaml']
  if (!next || !existsSync(file)) return []
  let before: Obj
  try {
    before = parse(readFileSync(file, 'utf8')) as Obj
  } catch {
    return [] // not YAML: render's own drift report shows the file as changed
  }
  const after = parse(next) as Obj
  if (before?.kind !== 'StatefulSet' || before.metadata?.name !== after.metadata.name || before.metadata?.namespace !== after.metadata.namespace) return []
  const changed = FIXED_STATEFULSET_FIELDS.filter(f => JSON.stringify(before.spec?.[f]) !== JSON.stringify(after.spec[f]))
  if (!changed.length) return []
  const details = changed.includes('volumeClaimTemplates') ? ` (${claimChange(before.spec.volumeClaimTemplates, after.spec.volumeClaimTemplates)})` : ''
  const ns = profile.kubernetes.namespace
  const name = after.metadata.name
  return [
    `statefulset.yaml: ${changed.join(', ')} changed${details}; if the StatefulSet is applied already, Kubernetes refuses this change. ` +
      `To apply it, recreate the StatefulSet and keep the pods: kubectl -n ${ns} delete statefulset ${name} --cascade=orphan, then kubectl apply -k ${outDir}. ` +
      (changed.includes('volumeClaimTemplates')
        ? `Existing volumes keep their old class and size: grow each (kubectl -n ${ns} patch pvc data-${name}-0 ...) if its StorageClass allows expansion, or move the data to new volumes; a new class applies only to new PVCs.`
        : 'Then delete the pods one by one (spares first) so that they take the new spec.'),
  ]
}

function claimChange(before: Obj[] | undefined, after: Obj[]): string {
  const describe = (c: Obj | undefined) => ({class: c?.spec?.storageClassName ?? '(cluster default)', size: c?.spec?.resources?.requests?.storage ?? '?'})
  const [b, a] = [describe(before?.[0]), describe(after[0])]
  const parts = [
    ...(b.class !== a.class ? [`storageClassName ${b.class} -> ${a.class}`] : []),
    ...(b.size !== a.size ? [`storage ${b.size} -> ${a.size}`] : []),
  ]
  return parts.length ? parts.join(', ') : 'volume claim template'
}
