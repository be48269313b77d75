// Parses a mermaid diagram from standard input with mermaid's own parser (in jsdom): exit 0 if it parses,
// 1 with the parser's message if not. Used by tests/test_review.py.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
try {
  const result = await mermaid.parse(readFileSync(0, "utf8"));
  console.log(result.diagramType);
} catch (error) {
  console.error(String(error));
  process.exit(1);
}
