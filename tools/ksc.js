#!/usr/bin/env node
// Compile Kaitai Struct specs (.ksy) to Python with the pinned npm build of
// kaitai-struct-compiler (see tools/package.json / package-lock.json).
//
//   node tools/ksc.js --out DIR [--python-package PKG] SPEC.ksy...
//
// JS API notes (kaitai-struct-compiler 0.11.0):
// * Since 0.11.0 require("kaitai-struct-compiler") returns the compiler
//   *object* (before 0.11 it was a constructor used as `new KSC().compile`).
//   compile(lang, ksyObject, importer, debug) -> Promise<{fileName: source}>.
//   The result also contains one file per imported spec.
// * The importer is {importYaml(name, mode) -> Promise<ksyObject>}; mode is
//   "rel" or "abs", and for "rel" the name is already joined with the
//   importing spec's relative directory (relative to the top-level spec).
// * The JS API takes no RuntimeConfig: it hard-codes the CLI defaults
//   (autoRead = !debug, readStoresPos = debug, opaqueTypes = false,
//   zeroCopySubstream = true, pythonPackage = ""). There is no way to pass
//   `--python-package` or `--opaque-types` through compile(). The only knobs
//   are per-spec meta keys: `meta: ks-opaque-types: true`,
//   `meta: ks-zero-copy-substream: ...`, `meta: ks-debug: true`.
// * With pythonPackage = "" a spec using `imports:` gets a bare
//   `import other_spec` line, which fails when the generated modules live in a
//   package (validator._kaitai). `--python-package PKG` below rewrites exactly
//   those lines to `from PKG import other_spec`, which is byte-for-byte what
//   the JVM CLI emits for `--python-package PKG` (PythonCompiler
//   .externalTypeDeclaration); nothing else in the output is touched.
//
// Output: each generated file is written to DIR unchanged except that trailing
// newlines are normalised to exactly one. Nothing is written unless every spec
// compiles. Exit status 1 on any error (spec path + compiler message on
// stderr), 2 on usage errors.

"use strict";

const fs = require("fs");
const path = require("path");
const yaml = require("js-yaml");
const compiler = require("kaitai-struct-compiler");

const LANG = "python";

function usage(msg) {
  if (msg) process.stderr.write(`ksc: ${msg}\n`);
  process.stderr.write(
    "usage: node tools/ksc.js --out DIR [--python-package PKG] SPEC.ksy...\n"
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { out: null, pythonPackage: "", specs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--out" || a === "-d") opts.out = value();
    else if (a.startsWith("--out=")) opts.out = a.slice(6);
    else if (a === "--python-package") opts.pythonPackage = value();
    else if (a.startsWith("--python-package=")) opts.pythonPackage = a.slice(17);
    else if (a === "-h" || a === "--help") usage();
    else if (a === "--") opts.specs.push(...argv.slice(i + 1)), (i = argv.length);
    else if (a.startsWith("-")) usage(`unknown option ${a}`);
    else opts.specs.push(a);
  }
  if (!opts.out) usage("--out DIR is required");
  if (opts.specs.length === 0) usage("no .ksy files given");
  if (opts.pythonPackage && !/^(\.+|\.*[A-Za-z_]\w*(\.[A-Za-z_]\w*)*)$/.test(opts.pythonPackage)) {
    usage(`invalid --python-package ${JSON.stringify(opts.pythonPackage)}`);
  }
  return opts;
}

function loadKsy(file) {
  const text = fs.readFileSync(file, "utf8");
  return yaml.load(text, { filename: file });
}

function errorText(err) {
  let text;
  if (err instanceof Error) text = err.message || String(err);
  else if (err && typeof err.getMessage === "function") text = String(err.getMessage());
  else text = String(err);
  return text.replace(/\s+$/, "");
}

// Imports of `imports: [foo, sub/bar]` resolve against the directory of the
// top-level spec being compiled ("rel"); "abs" imports (`/foo`) resolve
// against the same directory, like the CLI with `-I <spec dir>`.
function makeImporter(specDir) {
  return {
    importYaml(name, mode) {
      const rel = mode === "abs" ? name.replace(/^\/+/, "") : name;
      const file = path.join(specDir, `${rel}.ksy`);
      try {
        return Promise.resolve(loadKsy(file));
      } catch (e) {
        return Promise.reject(new Error(`cannot import ${JSON.stringify(name)} (${mode}) from ${file}: ${errorText(e)}`));
      }
    },
  };
}

function applyPythonPackage(source, pkg, moduleNames) {
  if (!pkg) return source;
  return source.replace(/^import ([A-Za-z_]\w*)$/gm, (line, mod) =>
    moduleNames.has(mod) ? `from ${pkg} import ${mod}` : line
  );
}

async function compileSpec(spec, opts) {
  const ksy = loadKsy(spec);
  if (ksy === null || typeof ksy !== "object" || Array.isArray(ksy)) {
    throw new Error("top level of a .ksy file must be a YAML mapping");
  }
  // The importer maps `imports: [foo]` to foo.ksy and the Python module is
  // named after meta/id, so insist that they agree.
  const id = ksy.meta && ksy.meta.id;
  const base = path.basename(spec, ".ksy");
  if (id !== base) {
    throw new Error(`meta/id ${JSON.stringify(id)} must match the file name (${JSON.stringify(base)})`);
  }
  const files = await compiler.compile(LANG, ksy, makeImporter(path.dirname(spec)), false);
  // Modules produced in this run: the spec itself plus everything it imports.
  const moduleNames = new Set(
    Object.keys(files).filter((f) => f.endsWith(".py")).map((f) => path.basename(f, ".py"))
  );
  const out = {};
  for (const [name, src] of Object.entries(files)) {
    const body = applyPythonPackage(String(src), opts.pythonPackage, moduleNames);
    out[name] = body.replace(/\n*$/, "\n");
  }
  return out;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const outputs = new Map(); // file name -> {source, from}
  let failed = 0;
  for (const spec of opts.specs) {
    let files;
    try {
      files = await compileSpec(spec, opts);
    } catch (e) {
      failed++;
      process.stderr.write(`ksc: ${spec}: error: ${errorText(e)}\n`);
      continue;
    }
    for (const [name, source] of Object.entries(files)) {
      const prev = outputs.get(name);
      if (prev && prev.source !== source) {
        failed++;
        process.stderr.write(`ksc: ${spec}: output ${name} differs from the one generated for ${prev.from}\n`);
        continue;
      }
      if (!prev) outputs.set(name, { source, from: spec });
    }
  }
  if (failed) {
    process.stderr.write(`ksc: ${failed} error(s); nothing written to ${opts.out}\n`);
    process.exit(1);
  }
  fs.mkdirSync(opts.out, { recursive: true });
  for (const [name, { source }] of outputs) {
    const dest = path.join(opts.out, name);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, source);
  }
  process.stdout.write(
    `ksc ${compiler.version}: ${opts.specs.length} spec(s) -> ${outputs.size} file(s) in ${opts.out}\n`
  );
}

main().catch((e) => {
  process.stderr.write(`ksc: ${errorText(e)}\n`);
  process.exit(1);
});
