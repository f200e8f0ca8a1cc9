"""Reference side of the codec benchmark (bench/codec.ts), under Debian's
/usr/bin/python3: skimage's photographs as 8-bit raw files, JPEG (Pillow,
optimize=True) at the best quality within a byte budget, PSNR and SSIM
(skimage.metrics) of any decoded image, and PNG files for the
fast_fractal_compression peer (which takes sides that are multiples of 32:
the image is padded by repeating its last row and column, and scored on its
own part).

  codec_peers.py dump DIR                 -> [{name, width, height}]
  codec_peers.py jpeg RAW W H BUDGET      -> {bytes, quality, psnr, ssim}
  codec_peers.py score RAW DEC W H        -> {psnr, ssim} (DEC: raw 8-bit)
  codec_peers.py png RAW W H OUT          -> writes OUT padded to 32: {width, height}
  codec_peers.py score_png RAW W H PNG    -> {psnr, ssim} of PNG's W x H part
"""
import io
import json
import sys

import numpy as np
from PIL import Image
from skimage import color, data
from skimage.metrics import structural_similarity

IMAGES = {
    "camera": lambda: data.camera(),
    "coins": lambda: data.coins(),  # 303 x 384: sides not multiples of 16
    "moon": lambda: data.moon(),
    "astronaut": lambda: (color.rgb2gray(data.astronaut()) * 255 + 0.5).astype(np.uint8),
}


def load(path, w, h):
    return np.fromfile(path, dtype=np.uint8).reshape(h, w)


def scores(a, b):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    mse = ((a64 - b64) ** 2).mean()
    psnr = float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)
    return {"psnr": float(psnr), "ssim": float(structural_similarity(a, b, data_range=255))}


def main():
    cmd = sys.argv[1]
    if cmd == "dump":
        out = []
        for name, make in IMAGES.items():
            img = np.ascontiguousarray(make().astype(np.uint8))
            img.tofile(f"{sys.argv[2]}/{name}.raw")
            out.append({"name": name, "width": int(img.shape[1]), "height": int(img.shape[0])})
        print(json.dumps(out))
    elif cmd == "jpeg":
        w, h, budget = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        a = load(sys.argv[2], w, h)
        best = None
        for q in range(1, 101):
            buf = io.BytesIO()
            Image.fromarray(a).save(buf, format="JPEG", quality=q, optimize=True)
            if buf.tell() > budget:
                break
            best = (q, buf.getvalue())
        if best is None:
            print(json.dumps({"bytes": 0, "quality": 0, "psnr": None, "ssim": None}))
            return
        d = np.asarray(Image.open(io.BytesIO(best[1])).convert("L"))
        print(json.dumps({"bytes": len(best[1]), "quality": best[0], **scores(a, d)}))
    elif cmd == "score":
        w, h = int(sys.argv[4]), int(sys.argv[5])
        print(json.dumps(scores(load(sys.argv[2], w, h), load(sys.argv[3], w, h))))
    elif cmd == "png":
        w, h = int(sys.argv[3]), int(sys.argv[4])
        a = load(sys.argv[2], w, h)
        pw, ph = -(-w // 32) * 32, -(-h // 32) * 32
        Image.fromarray(np.pad(a, ((0, ph - h), (0, pw - w)), mode="edge")).save(sys.argv[5])
        print(json.dumps({"width": pw, "height": ph}))
    elif cmd == "score_png":
        w, h = int(sys.argv[3]), int(sys.argv[4])
        d = np.asarray(Image.open(sys.argv[5]).convert("L"))[:h, :w]
        print(json.dumps(scores(load(sys.argv[2], w, h), np.ascontiguousarray(d))))
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
