#!/usr/bin/env bash
# Per-format speed on 12 MP inputs: `avatar prep --jobs 1` against Pillow doing the same job,
# one hyperfine run per format so each ratio comes from one run. Needs the peers' venv
# (../shared/bench/install_peers.sh) and its corpus (make_corpus.py), and a release build:
#   cargo build --release -p avatar-cli --features all-formats
#   benches/formats/run.sh [webp avif heic bmp tiff]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=${PY:-/tmp/peers/venv/bin/python}
avatar=${AVATAR:-$here/../../target/release/avatar}
corpus=${CORPUS:-/tmp/avatar-corpus/photos}
work=${WORK:-/tmp/avatar-formats}
[ -d "$work/in" ] || "$py" "$here/pillow_formats.py" make "$corpus" "$work/in" 5
for fmt in "${@:-webp avif heic bmp tiff}"; do
  for f in $fmt; do
    [ -d "$work/in/$f" ] || { echo "no $f inputs"; continue; }
    echo "== $f: $(ls "$work/in/$f" | wc -l) files, $(du -sh "$work/in/$f" | cut -f1)"
    hyperfine -N --warmup 1 --runs "${RUNS:-5}" --export-markdown "$work/$f.md" \
      -n avatar "$avatar prep $work/in/$f --out $work/out/avatar-$f --jobs 1 -q" \
      -n pillow "$py $here/pillow_formats.py run $work/in/$f $work/out/pillow-$f"
  done
done
