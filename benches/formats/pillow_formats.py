#!/usr/bin/env python3
"""Per-format speed of the avatar job next to Pillow, on 12 MP inputs.

    pillow_formats.py make SRC_DIR OUT_DIR [N]   # N corpus photos -> OUT_DIR/<fmt>/ (webp, avif, heic, bmp, tiff)
    pillow_formats.py run IN_DIR OUT_DIR         # Pillow does the avatar job on every file, one thread

The job is the one avatar-prep's `OutputFormat::Auto` does for these inputs: EXIF orientation,
letterbox to a square, Lanczos down to min(1024, max(w, h)); opaque WebP/AVIF/HEIC -> JPEG q90
4:2:0 on white, BMP/TIFF -> RGBA PNG on transparent. `benches/formats/run.sh` times both with
hyperfine. HEIC needs pillow-heif (`pip install pillow-heif`); it is skipped when absent.
"""
import os
import sys

from PIL import Image, ImageOps

try:
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF = True
except ImportError:
    HEIF = False

MAX = 1024
SAVE = {  # format -> Pillow save arguments
    "webp": dict(format="WEBP", quality=85),
    "avif": dict(format="AVIF", quality=75),
    "heic": dict(format="HEIF", quality=85),
    "bmp": dict(format="BMP"),
    "tiff": dict(format="TIFF", compression="tiff_lzw"),
}


def make(src, dst, n):
    photos = sorted(f for f in os.listdir(src) if f.endswith(".jpg") and "4032x3024" in f)[:n]
    for fmt, args in SAVE.items():
        if fmt == "heic" and not HEIF:
            print("pillow-heif missing: no HEIC inputs", file=sys.stderr)
            continue
        os.makedirs(os.path.join(dst, fmt), exist_ok=True)
        for p in photos:
            with Image.open(os.path.join(src, p)) as im:
                im.convert("RGB").save(os.path.join(dst, fmt, p[:-4] + "." + fmt), **args)


def job(src, dst):
    with Image.open(src) as im:
        side = min(MAX, max(im.size))
        im = ImageOps.exif_transpose(im)
        if im.format in ("BMP", "TIFF") or im.mode in ("RGBA", "LA", "PA"):
            out = ImageOps.pad(im.convert("RGBA"), (side, side), method=Image.LANCZOS, color=(0, 0, 0, 0))
            out.save(os.path.splitext(dst)[0] + ".png", "PNG")
        else:
            out = ImageOps.pad(im.convert("RGB"), (side, side), method=Image.LANCZOS, color=(255, 255, 255))
            out.save(os.path.splitext(dst)[0] + ".jpg", "JPEG", quality=90, subsampling=2)


def main():
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 5)
    else:
        os.makedirs(sys.argv[3], exist_ok=True)
        for f in sorted(os.listdir(sys.argv[2])):
            job(os.path.join(sys.argv[2], f), os.path.join(sys.argv[3], f))


if __name__ == "__main__":
    main()
