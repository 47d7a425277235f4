#!/usr/bin/env python3
"""Draw the flagship example's placeholder images (small indexed PNGs, standard library only).

    python3 scripts/placeholder-images.py examples/2023-09-cluster-news

The output is deterministic: running it again gives the same bytes.
"""
import struct
import sys
import zlib
from pathlib import Path

# 5x7 glyphs, '#' = ink.
FONT = {
    "A": [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
    "B": ["####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."],
    "C": [".####", "#....", "#....", "#....", "#....", "#....", ".####"],
    "D": ["####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."],
    "E": ["#####", "#....", "#....", "####.", "#....", "#....", "#####"],
    "G": [".####", "#....", "#....", "#.###", "#...#", "#...#", ".###."],
    "H": ["#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
    "I": ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "#####"],
    "K": ["#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"],
    "L": ["#....", "#....", "#....", "#....", "#....", "#....", "#####"],
    "M": ["#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"],
    "N": ["#...#", "##..#", "#.#.#", "#.#.#", "#..##", "#...#", "#...#"],
    "O": [".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
    "P": ["####.", "#...#", "#...#", "####.", "#....", "#....", "#...."],
    "R": ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"],
    "S": [".####", "#....", "#....", ".###.", "....#", "....#", "####."],
    "T": ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."],
    "U": ["#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
    "W": ["#...#", "#...#", "#...#", "#.#.#", "#.#.#", "##.##", "#...#"],
    "Y": ["#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."],
    "0": [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
    "1": ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
    "2": [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
    "3": ["####.", "....#", "....#", ".###.", "....#", "....#", "####."],
    "4": ["#...#", "#...#", "#...#", "#####", "....#", "....#", "....#"],
    "9": [".###.", "#...#", "#...#", ".####", "....#", "....#", ".###."],
    " ": [".....", ".....", ".....", ".....", ".....", ".....", "....."],
    "-": [".....", ".....", ".....", "#####", ".....", ".....", "....."],
}


class Canvas:
    def __init__(self, width, height, palette, background=0):
        self.w, self.h, self.palette = width, height, palette
        self.px = [bytearray([background]) * width for _ in range(height)]

    def rect(self, x, y, w, h, c):
        for yy in range(max(0, y), min(self.h, y + h)):
            row = self.px[yy]
            for xx in range(max(0, x), min(self.w, x + w)):
                row[xx] = c

    def text(self, x, y, s, scale, c):
        for ch in s:
            glyph = FONT[ch]
            for gy, line in enumerate(glyph):
                for gx, cell in enumerate(line):
                    if cell == "#":
                        self.rect(x + gx * scale, y + gy * scale, scale, scale, c)
            x += 6 * scale

    def text_width(self, s, scale):
        return len(s) * 6 * scale - scale

    def line(self, points, thickness, c):
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            steps = max(abs(x1 - x0), abs(y1 - y0), 1)
            for i in range(steps + 1):
                x = x0 + (x1 - x0) * i // steps
                y = y0 + (y1 - y0) * i // steps
                self.rect(x - thickness // 2, y - thickness // 2, thickness, thickness, c)

    def png(self):
        def chunk(kind, data):
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        raw = b"".join(b"\x00" + bytes(row) for row in self.px)
        plte = b"".join(bytes.fromhex(c) for c in self.palette)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", self.w, self.h, 8, 3, 0, 0, 0))
            + chunk(b"PLTE", plte)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


TEAL, WHITE, ORANGE, SKY, INK, GREY, PALE = range(7)
PALETTE = ["0b4f6c", "ffffff", "d9480f", "8fd3e8", "1f2933", "9aa5b1", "e9eef2"]


def banner():
    c = Canvas(600, 140, PALETTE, TEAL)
    c.rect(0, 124, 600, 16, ORANGE)
    # A cross of squares as the mark.
    for x, y in [(40, 50), (68, 22), (68, 50), (68, 78), (96, 50)]:
        c.rect(x, y, 26, 26, SKY if (x, y) != (68, 50) else ORANGE)
    c.text(150, 28, "WMHTC", 8, WHITE)
    c.text(152, 96, "WEST MIDLANDS HEALTHTECH CLUSTER", 2, SKY)
    return c


def collage():
    c = Canvas(544, 272, PALETTE, WHITE)
    tiles = [(0, 0, 268, 132), (276, 0, 268, 132), (0, 140, 176, 132), (184, 140, 176, 132), (368, 140, 176, 132)]
    colours = [TEAL, SKY, ORANGE, GREY, TEAL]
    for (x, y, w, h), col in zip(tiles, colours):
        c.rect(x, y, w, h, col)
        # A table and people round it.
        c.rect(x + w // 2 - 40, y + h // 2 - 10, 80, 20, PALE)
        for i in range(4):
            c.rect(x + w // 2 - 38 + i * 22, y + h // 2 - 30, 14, 14, INK)
            c.rect(x + w // 2 - 38 + i * 22, y + h // 2 + 16, 14, 14, INK)
    label = "ROUNDTABLE 4 OCT"
    c.rect(0, 112, c.text_width(label, 3) + 24, 36, INK)
    c.text(12, 119, label, 3, WHITE)
    return c


def poster(title, subtitle, background, accent):
    c = Canvas(544, 240, PALETTE, background)
    c.rect(0, 0, 16, 240, accent)
    c.text(44, 52, title, 7, WHITE)
    c.text(46, 130, subtitle, 3, WHITE)
    c.rect(46, 176, 180, 6, accent)
    return c


def signature():
    c = Canvas(220, 70, PALETTE, WHITE)
    c.line(
        [(10, 50), (22, 14), (30, 52), (42, 20), (52, 48), (64, 30), (80, 44), (96, 26),
         (112, 46), (128, 22), (142, 44), (160, 34), (178, 40), (208, 30)],
        3,
        INK,
    )
    c.line([(20, 60), (200, 56)], 2, INK)
    return c


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    images = {
        "banner.png": banner(),
        "roundtable-collage.png": collage(),
        "btw2023.png": poster("BTW2023", "DIGITAL HEALTH - 19 OCT", TEAL, ORANGE),
        "topical-tuesday.png": poster("TOPICAL", "TUESDAY - SEPTEMBER 2023", ORANGE, TEAL),
        "signature.png": signature(),
    }
    for name, canvas in images.items():
        (out / name).write_bytes(canvas.png())


if __name__ == "__main__":
    main()
