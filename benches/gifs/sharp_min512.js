#!/usr/bin/env node
// sharp doing the avatar job on GIFs at Slack's size rules: S = clamp(max(w, h), 512, 1024),
// so inputs under 512 px are enlarged as `avatar` must enlarge them (the shared peer script
// keeps them at their own size, which Slack refuses). Same settings as
// ../shared/bench/peers/sharp_avatar.js otherwise.
//   NODE_PATH=/tmp/peers/node_modules node benches/gifs/sharp_min512.js IN_DIR OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const sharp = require('sharp');

const CLEAR = { r: 0, g: 0, b: 0, alpha: 0 };

async function one(src, dst) {
  const img = sharp(src, { animated: true });
  const m = await img.metadata();
  const S = Math.min(1024, Math.max(512, m.width, m.pageHeight || m.height));
  await img.resize({ width: S, height: S, fit: 'contain', background: CLEAR }).gif().toFile(dst);
}

async function main() {
  const [inDir, outDir] = process.argv.slice(2);
  fs.mkdirSync(outDir, { recursive: true });
  const files = fs.readdirSync(inDir).filter((f) => /\.gif$/i.test(f)).sort();
  for (const f of files) await one(path.join(inDir, f), path.join(outDir, f));
}

main().catch((e) => { console.error(e); process.exit(1); });
