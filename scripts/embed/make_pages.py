#!/usr/bin/python3
"""Draws the small page images of the embed tests (embed/testdata/pages/) with Pillow.

    /usr/bin/python3 scripts/embed/make_pages.py

Sizes are chosen for their tile grids under the 2048/512 Idefics3 preprocessing: a 4:3 page gives 3x4
tiles + global (13), a tall 1:2 page 4x2 + global (9), a wide 4:1 strip 1x4 + global (5).
"""
import os

from PIL import Image, ImageDraw

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "embed", "testdata", "pages")
os.makedirs(out, exist_ok=True)


def page(name, size, draw_fn):
    img = Image.new("RGB", size, "white")
    draw_fn(ImageDraw.Draw(img), size)
    img.save(os.path.join(out, name), optimize=True)


def table(d, size):  # a ruled table with a dark header row
    w, h = size
    d.rectangle([2, 2, w - 3, h // 5], fill=(30, 40, 90))
    for y in range(h // 5, h - 2, max(3, h // 8)):
        d.line([2, y, w - 3, y], fill=(0, 0, 0))
    for x in range(2, w - 2, max(4, w // 4)):
        d.line([x, 2, x, h - 3], fill=(0, 0, 0))


def photo(d, size):  # a round orange blob on a green field
    w, h = size
    d.rectangle([0, h // 2, w, h], fill=(60, 160, 60))
    d.ellipse([w // 4, h // 6, 3 * w // 4, 5 * h // 6], fill=(230, 140, 30))
    d.ellipse([w // 3, h // 3, w // 3 + 3, h // 3 + 3], fill=(0, 0, 0))


def chart(d, size):  # bars of rising height
    w, h = size
    n = 6
    for i in range(n):
        x0 = 2 + i * (w - 4) // n
        top = h - 2 - (i + 1) * (h - 4) // (n + 1)
        d.rectangle([x0, top, x0 + (w - 4) // n - 2, h - 2], fill=(200, 30 * i, 40))


page("table_4x3.png", (64, 48), table)
page("photo_1x2.png", (40, 80), photo)
page("chart_4x1.png", (96, 24), chart)
