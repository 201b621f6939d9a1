#!/usr/bin/python3
"""Draws the small test images of generate/testdata/images (Pillow). Their aspect ratios give different tile
counts on a SmolVLM processor (longest edge 2048, 512-px tiles): 4:1 -> 5 tiles, 2:1 -> 9, 3:4 -> 13, 1:1 -> 17.
Run from the repository root: /usr/bin/python3 scripts/generate/make-images.py"""
from PIL import Image, ImageDraw

OUT = "generate/testdata/images/"

def gradient(w, h, c0, c1, mode="RGB"):
    img = Image.new(mode, (w, h))
    px = img.load()
    for y in range(h):
        for x in range(w):
            t = (x + y) / max(1, w + h - 2)
            c = tuple(int(a + (b - a) * t) for a, b in zip(c0, c1))
            px[x, y] = c
    return img

wide = gradient(64, 16, (250, 240, 200), (40, 80, 160))
d = ImageDraw.Draw(wide)
d.rectangle([4, 3, 20, 12], fill=(200, 30, 30))
d.ellipse([40, 2, 52, 14], fill=(20, 160, 60))
wide.save(OUT + "wide-4x1.png")

banner = gradient(48, 24, (10, 10, 40), (230, 200, 90))
d = ImageDraw.Draw(banner)
d.line([0, 23, 47, 0], fill=(255, 255, 255), width=2)
d.rectangle([30, 14, 44, 21], outline=(255, 0, 255))
banner.save(OUT + "banner-2x1.png")

portrait = gradient(36, 48, (120, 200, 255), (255, 255, 255))
d = ImageDraw.Draw(portrait)
d.polygon([(18, 6), (32, 40), (4, 40)], fill=(90, 60, 30))
d.text((6, 30), "Hi", fill=(0, 0, 0))
portrait.save(OUT + "portrait-3x4.jpg", quality=90)

square = gradient(40, 40, (255, 0, 0, 255), (0, 0, 255, 64), mode="RGBA")
d = ImageDraw.Draw(square)
d.ellipse([8, 8, 32, 32], fill=(255, 255, 0, 200))
d.rectangle([0, 0, 9, 9], fill=(0, 0, 0, 0))
square.save(OUT + "square-rgba.png")
