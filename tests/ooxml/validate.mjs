// Microsoft's Open XML SDK validator (the npm package @ooxml-tools/validate, compiled to
// WebAssembly) over many files in one Node process: prints one JSON object
// {"file": [errors...]} for the paths given, or {"file": "cannot validate: ..."}.
import { readFile } from "node:fs/promises";
import validate from "@ooxml-tools/validate";

const results = {};
for (const path of process.argv.slice(2)) {
  try {
    const data = new Uint8Array(await readFile(path));
    results[path] = await validate(data, "xlsx", "Microsoft365");
  } catch (err) {
    results[path] = `cannot validate: ${err && err.message ? err.message : err}`;
  }
}
process.stdout.write(JSON.stringify(results));
