#!/usr/bin/env bash
# Seeds the fuzz corpora from the repository's samples, the regression fixtures and, when
# present, the shared conformance corpus (files under 64 KiB). Run from fuzz/.
set -euo pipefail
for t in prepare prepare_options gif webp bmp_tiff heic jpeg avif; do mkdir -p "corpus/$t"; done
copy() { for d in "$@"; do [ -d "$d" ] || continue; find "$d" -type f -size -64k; done | while read -r f; do
  n=$(sha1sum "$f" | cut -c1-16)
  cp "$f" "corpus/prepare/$n"; cp "$f" "corpus/prepare_options/$n"
  case "$f" in
    *.gif) tail -c +7 "$f" > "corpus/gif/$n" ;;
    *.webp) cp "$f" "corpus/webp/$n" ;;
    *.heic) cp "$f" "corpus/heic/$n" ;;
    *.jpg|*.jpeg) { printf '\0'; tail -c +3 "$f"; } > "corpus/jpeg/$n" ;;
    *.avif|*.avifs) cp "$f" "corpus/avif/$n" ;;
    *.bmp|*.tif|*.tiff) { printf '\0'; cat "$f"; } > "corpus/bmp_tiff/$n" ;;
  esac
done; }
copy ../samples ../tests/fixtures ../../shared/corpus
echo "seeded: $(ls corpus/prepare | wc -l) files"
