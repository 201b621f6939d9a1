#!/usr/bin/python3
"""Golden files for internal/vlm image decoding, resizing and pixel_values, made with Pillow and NumPy.

Run from the repository root:  /usr/bin/python3 scripts/goldens/vlm/images.py
(Debian python3-pil 9.4 with libjpeg-turbo 2.1 and libwebp 1.2, python3-numpy 1.24, and cjpeg from
libjpeg-turbo-progs 2.1 for JPEG variants Pillow cannot write: 4:4:0, 4:1:1, restart markers, RGB, arithmetic).

Writes, under internal/vlm/testdata/:
  images/NAME.EXT        small deterministic test images in many formats (made here)
  decoded/NAME.MODE.png  Pillow's decoded RGB uint8 pixels for every image, stored losslessly as PNG,
                         MODE = drop | white
                         (drop: Image.convert("RGB") as colpali-engine does; white: transformers'
                         convert_to_rgb, alpha composited on white)
  goldens.json           sha256 of those arrays, LANCZOS resize hashes, and pixel_values hashes

The pixel_values reference reproduces transformers' Idefics3ImageProcessor (slow PIL path) with Pillow and
NumPy as research/models.md §2.2 specifies: resize longest edge to size.longest_edge (int() + even bump),
resize up to multiples of max_image_size, row-major crops plus a global tile resized to max_image_size
(LANCZOS, uint8), rescale float64 then cast to float32, normalise in float32, channels first.
"""
import hashlib
import io
import json
import math
import os
import shutil
import struct
import subprocess
import tempfile
import zlib

import numpy as np
from PIL import Image, ImageDraw, features

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
TD = os.path.join(ROOT, "internal", "vlm", "testdata")
IMG = os.path.join(TD, "images")
DEC = os.path.join(TD, "decoded")
LANCZOS = Image.LANCZOS


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def rng(seed):
    return np.random.RandomState(seed)


def png16(path, arr, color_type):
    """Minimal PNG writer for 16-bit samples (Pillow cannot write 16-bit RGB/RGBA PNGs)."""
    h, w = arr.shape[:2]
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def noise_rgb(w, h, seed):
    return rng(seed).randint(0, 256, size=(h, w, 3)).astype(np.uint8)


def smooth_rgb(w, h, seed):
    r = rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.zeros((h, w, 3))
    for c in range(3):
        fx, fy, ph = r.uniform(0.02, 0.15), r.uniform(0.02, 0.15), r.uniform(0, 6)
        out[..., c] = 127.5 + 120 * np.sin(fx * x + ph) * np.cos(fy * y - ph)
    return np.clip(out + r.normal(0, 4, out.shape), 0, 255).astype(np.uint8)


def page(w, h):
    im = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(im)
    d.rectangle([40, 40, w - 40, 90], fill=(30, 60, 140))
    d.text((50, 55), "Quarterly report 2023 - Revenue and costs", fill="white")
    y = 110
    for i in range(40):
        d.text((50, y), "Line %02d: the quick brown fox jumps over the lazy dog 0123456789 %s" % (i, "*" * (i % 7)),
               fill=(20, 20, 20))
        y += 14
    d.rectangle([60, y + 10, w - 60, y + 150], outline=(0, 0, 0), width=2)
    for k in range(8):
        bh = 10 + (k * 37) % 120
        d.rectangle([80 + k * 55, y + 148 - bh, 110 + k * 55, y + 148], fill=(200, 40 + 20 * k, 40))
    d.ellipse([w - 200, y + 20, w - 80, y + 140], fill=(40, 160, 90), outline=(0, 0, 0))
    return im


def cjpeg(name, arr, args):
    if shutil.which("cjpeg") is None:
        raise SystemExit("cjpeg not found: apt-get install libjpeg-turbo-progs")
    with tempfile.TemporaryDirectory() as td:
        src = os.path.join(td, "in.ppm")
        Image.fromarray(arr).save(src)
        with open(os.path.join(IMG, name + ".jpg"), "wb") as f:
            subprocess.run(["cjpeg"] + args + [src], stdout=f, check=True)


def make_images():
    """Creates the test images; returns {name: file name}."""
    os.makedirs(IMG, exist_ok=True)
    files = {}

    def save(name, im, ext, **kw):
        fn = name + "." + ext
        im.save(os.path.join(IMG, fn), **kw)
        files[name] = fn

    save("page", page(612, 792), "png")
    save("wide", Image.fromarray(smooth_rgb(300, 60, 1)), "png")
    save("tall", Image.fromarray(smooth_rgb(40, 260, 2)), "png")
    save("tiny", Image.fromarray(noise_rgb(3, 2, 3)), "png")
    save("one", Image.fromarray(noise_rgb(1, 1, 4)), "png")
    save("square", Image.fromarray(smooth_rgb(97, 97, 5)), "png")
    rgba = np.dstack([smooth_rgb(64, 48, 6), (np.arange(64 * 48) % 256).reshape(48, 64).astype(np.uint8)])
    save("rgba", Image.fromarray(rgba, "RGBA"), "png")
    la = np.dstack([smooth_rgb(33, 21, 7)[..., 0], rng(8).randint(0, 256, (21, 33)).astype(np.uint8)])
    save("la", Image.fromarray(la, "LA"), "png")
    pal = Image.fromarray(smooth_rgb(50, 40, 9)).quantize(colors=37, method=Image.MEDIANCUT)
    save("palette", pal, "png")
    pal_t = pal.copy()
    save("palette_trns", pal_t, "png", transparency=5)
    save("gray", Image.fromarray(smooth_rgb(45, 33, 10)[..., 1]), "png")
    g16 = (np.arange(37 * 29).reshape(29, 37) * 61 % 65536).astype(np.uint16)
    png16(os.path.join(IMG, "gray16.png"), g16, 0)
    files["gray16"] = "gray16.png"
    png16(os.path.join(IMG, "rgb16.png"), rng(11).randint(0, 65536, (23, 31, 3)), 2)
    files["rgb16"] = "rgb16.png"
    png16(os.path.join(IMG, "rgba16.png"), rng(12).randint(0, 65536, (19, 27, 4)), 6)
    files["rgba16"] = "rgba16.png"
    noisy, smooth = noise_rgb(61, 47, 13), smooth_rgb(130, 90, 14)
    save("jpeg420_noise", Image.fromarray(noisy), "jpg", quality=90, subsampling=2)
    save("jpeg420_smooth", Image.fromarray(smooth), "jpg", quality=90, subsampling=2)
    save("jpeg422", Image.fromarray(smooth), "jpg", quality=90, subsampling=1)
    save("jpeg444", Image.fromarray(smooth), "jpg", quality=90, subsampling=0)
    save("jpeg420_odd", Image.fromarray(smooth_rgb(33, 17, 15)), "jpg", quality=85, subsampling=2)
    save("jpeg420_narrow", Image.fromarray(smooth_rgb(3, 20, 16)), "jpg", quality=95, subsampling=2)
    save("jpeg_progressive", Image.fromarray(smooth), "jpg", quality=80, progressive=True, subsampling=2)
    save("jpeg_gray", Image.fromarray(smooth[..., 0]), "jpg", quality=90)
    save("jpeg_cmyk", Image.fromarray(smooth).convert("CMYK"), "jpg", quality=90)
    save("jpeg_page", page(612, 792), "jpg", quality=85, subsampling=2)
    save("tiff_rgb", Image.fromarray(smooth_rgb(41, 29, 17)), "tif")
    save("tiff_lzw", Image.fromarray(smooth_rgb(41, 29, 18)), "tif", compression="tiff_lzw")
    save("bmp", Image.fromarray(smooth_rgb(41, 29, 19)), "bmp")
    save("gif", Image.fromarray(smooth_rgb(50, 40, 20)).quantize(colors=64), "gif")
    for name, arr, args in [
        ("jpeg440", smooth, ["-sample", "1x2,1x1,1x1"]),
        ("jpeg411", smooth, ["-sample", "4x1,1x1,1x1"]),
        ("jpeg_restart", smooth, ["-restart", "3B"]),
        ("jpeg_prog_restart", noisy, ["-progressive", "-restart", "1"]),
        ("jpeg_rgb", smooth, ["-rgb"]),
        ("jpeg_optimize", noise_rgb(64, 64, 26), ["-optimize", "-quality", "100"]),
        ("jpeg_q5", smooth, ["-quality", "5"]),
        ("jpeg_gray_prog", smooth[..., 1], ["-progressive", "-grayscale"]),
        ("jpeg_arith", smooth, ["-arithmetic"]),
    ]:
        cjpeg(name, arr, args)
        files[name] = name + ".jpg"
    save("gif_trns", Image.fromarray(smooth_rgb(30, 20, 25)).quantize(colors=16), "gif", transparency=3)
    save("webp_lossless", Image.fromarray(smooth_rgb(41, 29, 21)), "webp", lossless=True)
    save("webp_lossy", Image.fromarray(smooth_rgb(41, 29, 22)), "webp", quality=80)
    save("webp_lossy_even", Image.fromarray(smooth_rgb(40, 30, 23)), "webp", quality=80)
    rgba_w = np.dstack([smooth_rgb(41, 29, 24), (np.arange(41 * 29) * 7 % 256).reshape(29, 41).astype(np.uint8)])
    save("webp_alpha", Image.fromarray(rgba_w, "RGBA"), "webp", quality=80)
    return files


def to_rgb_white(im):
    """transformers.image_transforms.convert_to_rgb."""
    if im.mode == "RGB":
        return im
    rgba = im.convert("RGBA")
    bg = Image.new("RGBA", rgba.size, (255, 255, 255))
    return Image.alpha_composite(bg, rgba).convert("RGB")


# ---------------------------------------------------------------- Idefics3 reference (models.md §2.2)

def resize_longest(h, w, max_len):
    aspect = w / h
    if w >= h:
        w = max_len
        h = int(w / aspect)
        if h % 2 != 0:
            h += 1
    else:
        h = max_len
        w = int(h * aspect)
        if w % 2 != 0:
            w += 1
    h, w = max(h, 1), max(w, 1)
    # scale below MAX_IMAGE_SIZE = 4096
    aspect = w / h
    if w >= h and w > 4096:
        w = 4096
        h = int(w / aspect)
    elif h > w and h > 4096:
        h = 4096
        w = int(h * aspect)
    return max(h, 1), max(w, 1)


def pil_resize(arr, h, w):
    im = Image.fromarray(arr)
    return np.array(im.resize((w, h), resample=LANCZOS))


def idefics3(arr, cfg):
    """Returns (pixel_values float32 [N,3,T,T], rows, cols, uint8 frames)."""
    if cfg["do_resize"]:
        h, w = resize_longest(arr.shape[0], arr.shape[1], cfg["size"]["longest_edge"])
        arr = pil_resize(arr, h, w)
    tile = cfg["max_image_size"]["longest_edge"]
    if cfg["do_image_splitting"]:
        h, w = arr.shape[:2]
        aspect = w / h
        if w >= h:
            w = math.ceil(w / tile) * tile
            h = int(w / aspect)
            h = math.ceil(h / tile) * tile
        else:
            h = math.ceil(h / tile) * tile
            w = int(h * aspect)
            w = math.ceil(w / tile) * tile
        arr = pil_resize(arr, h, w)
        frames = []
        if h > tile or w > tile:
            rows, cols = math.ceil(h / tile), math.ceil(w / tile)
            oh, ow = math.ceil(h / rows), math.ceil(w / cols)
            for r in range(rows):
                for c in range(cols):
                    frames.append(arr[r * oh:min(r * oh + oh, h), c * ow:min(c * ow + ow, w)])
            if h != tile or w != tile:
                arr = pil_resize(arr, tile, tile)
        else:
            rows = cols = 0
        frames.append(arr)
    else:
        arr = pil_resize(arr, tile, tile)
        rows = cols = 0
        frames = [arr]
    out = []
    mean = np.array(cfg["image_mean"], dtype=np.float32)
    std = np.array(cfg["image_std"], dtype=np.float32)
    for f in frames:
        x = f.astype(np.float64) * cfg["rescale_factor"]
        x = x.astype(np.float32)
        x = (x - mean) / std
        out.append(x.transpose(2, 0, 1))
    return np.stack(out).astype(np.float32), rows, cols, frames


def main():
    os.makedirs(DEC, exist_ok=True)
    files = make_images()
    with open(os.path.join(TD, "model", "preprocessor_config.json")) as f:
        cfg = json.load(f)
    goldens = {"pillow": Image.__version__ if hasattr(Image, "__version__") else "",
               "libjpeg_turbo": features.version("libjpeg_turbo"), "webp": features.version("webp"),
               "images": {}, "resize": [], "pixel_values": []}
    decoded = {}
    for name, fn in sorted(files.items()):
        im = Image.open(os.path.join(IMG, fn))
        im.load()
        drop = np.array(im.convert("RGB"))
        white = np.array(to_rgb_white(im))
        decoded[name] = drop
        Image.fromarray(drop).save(os.path.join(DEC, name + ".drop.png"), optimize=True)
        entry = {"file": fn, "pil_mode": im.mode, "w": drop.shape[1], "h": drop.shape[0],
                 "drop_sha256": sha(drop), "white_sha256": sha(white)}
        if not np.array_equal(drop, white):
            Image.fromarray(white).save(os.path.join(DEC, name + ".white.png"), optimize=True)
            entry["white_differs"] = True
        goldens["images"][name] = entry

    # LANCZOS resize of lossless inputs to sizes that exercise down/up-scaling, one-axis-only passes and
    # identity.
    for name, sizes in [
        ("page", [(364, 471), (1448, 2048), (1536, 2048), (512, 512), (612, 1000), (700, 792), (612, 792)]),
        ("wide", [(2048, 410), (2048, 512), (512, 512), (150, 30), (300, 61)]),
        ("tall", [(316, 2048), (512, 2048), (13, 77)]),
        ("tiny", [(2048, 1366), (1, 1), (7, 2), (3, 9)]),
        ("one", [(2048, 2048), (5, 3)]),
        ("square", [(2048, 2048), (96, 98), (511, 512)]),
    ]:
        for w, h in sizes:
            r = pil_resize(decoded[name], h, w)
            goldens["resize"].append({"image": name, "w": w, "h": h, "sha256": sha(r),
                                      "sample": r[h // 2, :min(w, 8)].reshape(-1).tolist()})

    cases = [
        ("page", "drop", {}), ("wide", "drop", {}), ("tall", "drop", {}), ("tiny", "drop", {}),
        ("one", "drop", {}), ("square", "drop", {}), ("rgba", "drop", {}), ("rgba", "white", {}),
        ("palette", "drop", {}), ("gray", "drop", {}), ("jpeg420_smooth", "drop", {}),
        ("jpeg444", "drop", {}), ("jpeg_page", "drop", {}),
        ("wide", "drop", {"size": {"longest_edge": 1536}}),
        ("tall", "drop", {"do_image_splitting": False}),
        ("square", "drop", {"size": {"longest_edge": 512}}),
    ]
    for name, mode, override in cases:
        c = dict(cfg)
        c.update(override)
        src = decoded[name] if mode == "drop" else np.array(to_rgb_white(Image.open(os.path.join(IMG, files[name]))))
        pv, rows, cols, frames = idefics3(src, c)
        goldens["pixel_values"].append({
            "image": name, "mode": mode, "config": json.dumps(override, sort_keys=True), "rows": rows, "cols": cols,
            "shape": list(pv.shape), "sha256": sha(pv.astype("<f4")),
            "frames_sha256": [sha(f) for f in frames],
            "sample": [float(v) for v in pv[-1, :, 256, 250:254].reshape(-1)],
        })
    with open(os.path.join(TD, "goldens.json"), "w") as f:
        json.dump(goldens, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", len(goldens["images"]), "images,", len(goldens["resize"]), "resizes,",
          len(goldens["pixel_values"]), "pixel_values cases")


if __name__ == "__main__":
    main()
