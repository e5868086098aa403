// Runs @andersmyrmel/vard (default configuration) on the held-out injection texts written by
// `Drydock.Benchmarks quality-injection` and writes one verdict per text: {"id", "flagged"}.
// A text counts as flagged only when vard reports a prompt-injection threat (not for its length limit).
import { readFileSync, writeFileSync } from "node:fs";
import vard from "@andersmyrmel/vard";

const [input, output] = process.argv.slice(2);
const guard = vard.moderate().maxLength(1_000_000);
const lines = readFileSync(input, "utf8").split("\n").filter(Boolean);
const verdicts = [];
const started = process.hrtime.bigint();
for (const line of lines) {
  const { id, text } = JSON.parse(line);
  const result = guard.safeParse(text);
  verdicts.push(JSON.stringify({ id, flagged: !result.safe }));
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
writeFileSync(output, verdicts.join("\n") + "\n");
console.error(`vard: ${lines.length} texts in ${seconds.toFixed(2)} s`);
