// Write schemas/commands/<command>.json: the JSON Schema (draft-07) of each command's --json output, and
// error.json, the shape --json prints on an error. Generated from the TypeScript types that the commands
// return (src/output/command-json.ts, read with the TypeScript checker), so the schema cannot drift from
// the type, and the type cannot drift from the value (each command returns CommandResult<CommandJson[id]>).
// JSDoc comments become descriptions. Objects are closed (additionalProperties: false), like the types.
// Usage: node scripts/gen-command-schemas.js [OUT_DIR]   (default schemas/commands; reads src/, no build)
import {mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import ts from 'typescript'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SOURCE = join(root, 'src/output/command-json.ts')

export function commandSchemas() {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {...ts.sys, onUnRecoverableConfigFileDiagnostic: d => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')) }})
  const program = ts.createProgram([SOURCE], {...config.options, noEmit: true})
  const checker = program.getTypeChecker()
  const file = program.getSourceFile(SOURCE)
  const decl = file.statements.find(s => ts.isInterfaceDeclaration(s) && s.name.text === 'CommandJson')
  if (!decl) throw new Error(`${SOURCE}: no interface CommandJson`)
  const outputs = checker.getTypeAtLocation(decl)
  const schemas = {}
  for (const prop of checker.getPropertiesOfType(outputs)) {
    const id = prop.getName()
    const where = `CommandJson['${id}']`
    const body = toSchema(checker, checker.getTypeOfSymbol(prop), where, [])
    const description = ts.displayPartsToString(prop.getDocumentationComment(checker)) || undefined
    const name = id === 'error' ? 'error' : id.replaceAll(' ', '-')
    schemas[name] = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: id === 'error' ? 'ff-ha --json error' : `ff-ha ${id} --json`,
      ...(description ? {description} : {}),
      ...body,
    }
  }
  return schemas
}

function toSchema(checker, type, where, stack) {
  const F = ts.TypeFlags
  if (type.flags & (F.Any | F.Unknown)) return {}
  if (type.flags & F.String) return {type: 'string'}
  if (type.flags & F.Number) return {type: 'number'}
  if (type.flags & F.Boolean) return {type: 'boolean'}
  if (type.flags & F.Null) return {type: 'null'}
  if (type.flags & F.StringLiteral || type.flags & F.NumberLiteral) return {const: type.value}
  if (type.flags & F.BooleanLiteral) return {const: checker.typeToString(type) === 'true'}
  if (type.isUnion()) {
    const members = type.types.filter(t => !(t.flags & F.Undefined))
    // boolean is the union true | false
    const bools = members.filter(t => t.flags & F.BooleanLiteral)
    const rest = members.filter(t => !(t.flags & F.BooleanLiteral))
    const parts = [...(bools.length === 2 ? [{type: 'boolean'}] : bools.map(t => toSchema(checker, t, where, stack)))]
    const literals = rest.filter(t => t.flags & (F.StringLiteral | F.NumberLiteral))
    if (literals.length) parts.push(literals.length === 1 ? {const: literals[0].value} : {enum: literals.map(t => t.value)})
    for (const t of rest.filter(t => !(t.flags & (F.StringLiteral | F.NumberLiteral)))) parts.push(toSchema(checker, t, where, stack))
    return parts.length === 1 ? parts[0] : {anyOf: parts}
  }
  if (checker.isArrayType(type)) {
    return {type: 'array', items: toSchema(checker, checker.getTypeArguments(type)[0], `${where}[]`, stack)}
  }
  if (checker.isTupleType(type)) {
    const items = checker.getTypeArguments(type).map((t, i) => toSchema(checker, t, `${where}[${i}]`, stack))
    return {type: 'array', items, minItems: items.length, maxItems: items.length}
  }
  if (type.flags & F.Object || type.isIntersection()) {
    if (type.getCallSignatures().length) throw new Error(`${where}: a function is not JSON`)
    if (stack.includes(type)) throw new Error(`${where}: a recursive type (not supported by this generator: give it a $ref)`)
    const inner = [...stack, type]
    const properties = {}
    const required = []
    for (const p of checker.getPropertiesOfType(type)) {
      const pt = checker.getTypeOfSymbol(p)
      // A property whose type is only undefined never appears in JSON (an Omit'ed or never-set field).
      if (pt.flags & F.Undefined) continue
      const s = toSchema(checker, pt, `${where}.${p.getName()}`, inner)
      const doc = ts.displayPartsToString(p.getDocumentationComment(checker))
      properties[p.getName()] = doc ? {description: doc, ...s} : s
      if (!(p.flags & ts.SymbolFlags.Optional)) required.push(p.getName())
    }
    const index = checker.getIndexInfosOfType(type).find(i => i.keyType.flags & F.String)
    return {
      type: 'object',
      ...(Object.keys(properties).length ? {properties} : {}),
      ...(required.length ? {required} : {}),
      additionalProperties: index ? toSchema(checker, index.type, `${where}[string]`, inner) : false,
    }
  }
  throw new Error(`${where}: cannot express ${checker.typeToString(type)} in JSON Schema`)
}

/** Write every schema into dir (removing schemas of commands that are gone); returns the files written. */
export function writeCommandSchemas(dir) {
  mkdirSync(dir, {recursive: true})
  const schemas = commandSchemas()
  for (const f of readdirSync(dir)) if (f.endsWith('.json') && !(f.slice(0, -5) in schemas)) rmSync(join(dir, f))
  return Object.entries(schemas).map(([name, schema]) => {
    const path = join(dir, `${name}.json`)
    writeFileSync(path, JSON.stringify(schema, null, 2) + '\n')
    return path
  })
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeCommandSchemas(resolve(process.argv[2] ?? join(root, 'schemas/commands')))
}
