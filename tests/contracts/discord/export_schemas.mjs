// Converts Discord's request-body contract, as published in the npm package `discord-api-spec`
// (generated daily from Discord's OpenAPI spec), into one JSON Schema file the Python sandbox
// validates against (discord_sandbox/contract.py).
//
//   node export_schemas.mjs OUT.json
//
// - Every named schema of the package's zod/mini module becomes a JSON Schema under `defs`
//   (zod 4's z.toJSONSchema over a registry, so references stay references and cycles work).
// - `routes` maps "METHOD /path/{param}" to the schema of its request body, read from the
//   package's `Paths` interface (discord-api-spec.ts). Bodies typed inline there (e.g. PATCH a
//   guild member) are translated from the TypeScript type by the small parser below.
// The output records the package and zod versions: the sandbox refuses a file whose version is
// not the one pinned in package.json, so a bump without regeneration fails the tests.
import { readFileSync, writeFileSync, renameSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as z from "zod/mini";
import * as spec from "discord-api-spec/zod";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const pkgDir = join(here, "node_modules", "discord-api-spec");
const pkgVersion = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")).version;
const zodVersion = JSON.parse(readFileSync(join(here, "node_modules", "zod", "package.json"), "utf8")).version;
void require;

// 1. Named schemas -> JSON Schema definitions.
const registry = z.registry();
for (const [name, schema] of Object.entries(spec)) {
  if (name.endsWith("Schema") && schema && typeof schema === "object" && schema._zod) {
    registry.add(schema, { id: name.slice(0, -"Schema".length) });
  }
}
const converted = z.toJSONSchema(registry, {
  io: "input", // what a client may send (defaults not applied)
  // The only unrepresentable type is z.undefined() in a union (the `data` of an autocomplete
  // callback may be left out): as JSON it matches no present value, so it becomes `not: {}`;
  // the property is optional anyway.
  unrepresentable: "any",
  override: (ctx) => {
    const kind = ctx.zodSchema._zod.def.type;
    if (kind === "undefined") ctx.jsonSchema.not = {};
    else if (["custom", "transform", "date", "bigint", "symbol", "function"].includes(kind)) {
      throw new Error(`cannot represent a zod ${kind} schema`);
    }
  },
  cycles: "ref",
  reused: "inline",
  uri: (id) => `#/defs/${id}`,
});
const defs = {};
for (const [id, schema] of Object.entries(converted.schemas)) {
  const { $schema, $id, ...rest } = schema;
  void $schema; void $id;
  defs[id] = rest;
}

function depth(text) {
  let d = 0;
  for (const ch of text) { if ("{([".includes(ch)) d++; else if ("})]".includes(ch)) d--; }
  return d;
}

// A TypeScript type expression (the subset the generated Paths uses) -> JSON Schema.
class TypeParser {
  constructor(text) {
    this.tokens = text.replace(/\/\*[\s\S]*?\*\//g, " ")
      .match(/\[\]|[A-Za-z_$][\w$]*|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|\S/g) || [];
    this.pos = 0;
  }
  peek() { return this.tokens[this.pos]; }
  next() { return this.tokens[this.pos++]; }
  expect(tok) {
    const got = this.next();
    if (got !== tok) throw new Error(`expected ${tok}, got ${got} in ${this.tokens.join(" ")}`);
  }
  parse() {
    const t = this.union();
    if (this.pos !== this.tokens.length) throw new Error(`trailing tokens: ${this.tokens.slice(this.pos).join(" ")}`);
    return t;
  }
  union() {
    if (this.peek() === "|") this.next();
    const parts = [this.postfix()];
    while (this.peek() === "|") { this.next(); parts.push(this.postfix()); }
    return parts.length === 1 ? parts[0] : { anyOf: parts };
  }
  postfix() {
    let t = this.primary();
    while (this.peek() === "[]") { this.next(); t = { type: "array", items: t }; }
    return t;
  }
  primary() {
    const tok = this.next();
    if (tok === "(") { const t = this.union(); this.expect(")"); return t; }
    if (tok === "{") return this.object();
    if (tok === "string") return { type: "string" };
    if (tok === "number") return { type: "number" };
    if (tok === "boolean") return { type: "boolean" };
    if (tok === "null") return { type: "null" };
    if (tok === "undefined") return { type: "undefined" };
    if (tok === "unknown") return {};
    if (/^"/.test(tok)) return { const: JSON.parse(tok) };
    if (/^-?\d/.test(tok)) return { const: Number(tok) };
    if (/^[A-Za-z_$]/.test(tok)) {
      if (!(tok in defs)) throw new Error(`no schema named ${tok}`);
      return { $ref: `#/defs/${tok}` };
    }
    throw new Error(`unexpected ${tok}`);
  }
  object() {
    const properties = {};
    const required = [];
    let additional = false;
    while (this.peek() !== "}") {
      if (this.peek() === "[") { // index signature: [key: string]: T;
        this.next(); this.next(); this.expect(":"); this.next(); this.expect("]"); this.expect(":");
        additional = this.union();
      } else {
        const key = this.next().replace(/^"|"$/g, "");
        const optional = this.peek() === "?";
        if (optional) this.next();
        this.expect(":");
        properties[key] = this.union();
        if (!optional) required.push(key);
      }
      if (this.peek() === ";" || this.peek() === ",") this.next();
    }
    this.expect("}");
    const out = { type: "object", properties, additionalProperties: additional };
    if (required.length) out.required = required;
    return out;
  }
}

// 2. Request bodies per route, from the Paths interface.
const ts = readFileSync(join(pkgDir, "build", "discord-api-spec.ts"), "utf8");
const start = ts.indexOf("export interface Paths {");
if (start < 0) throw new Error("no Paths interface in discord-api-spec.ts");
const lines = ts.slice(start).split("\n");
const routes = {};
const literals = new Set(); // literal path segments of every route (with a body or not)
let path = null;
let method = null;
for (let i = 1; i < lines.length; i++) {
  const line = lines[i];
  if (line === "}") break;
  let m = line.match(/^ {2}"([^"]+)": \{$/);
  if (m) {
    path = m[1];
    for (const seg of path.split("/")) if (seg && !seg.startsWith("{")) literals.add(seg);
    continue;
  }
  m = line.match(/^ {4}(get|put|post|patch|delete): \{$/);
  if (m) { method = m[1].toUpperCase(); continue; }
  m = line.match(/^ {6}requestBody(\??):\s*(.*)$/);
  if (m) {
    let text = m[2];
    while (!text.trimEnd().endsWith(";") || depth(text) > 0) text += "\n" + lines[++i];
    text = text.trimEnd().slice(0, -1);
    const body = new TypeParser(text).parse();
    if (body.type === "undefined") continue; // no body for this route
    routes[`${method} ${path}`] = m[1] ? { anyOf: [body, { type: "null" }] } : body;
  }
}

const out = process.argv[2];
if (!out) throw new Error("usage: node export_schemas.mjs OUT.json");
const doc = {
  package: "discord-api-spec",
  version: pkgVersion,
  zod: zodVersion,
  note: "Generated by tests/contracts/discord/export_schemas.mjs; do not edit.",
  routes,
  literals: [...literals].sort(),
  defs,
};
writeFileSync(out + ".tmp", JSON.stringify(doc));
renameSync(out + ".tmp", out);
console.log(`discord-api-spec ${pkgVersion}: ${Object.keys(defs).length} schemas, ${Object.keys(routes).length} request bodies -> ${out}`);
