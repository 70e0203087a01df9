"""Validating many references keeps memory flat: one decoded image at a time, released promptly."""

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import io, resource, sys
from PIL import Image
from playground.inputs.images import normalize_reference, thumbnail_webp

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

size = (3000, 2000)  # 6 MP: 24 MB decoded
picture = Image.merge("RGB", [Image.linear_gradient("L").resize(size)] * 3)
exif = Image.Exif()
exif[0x0112] = 6
uploads = []
for options in ({}, {"exif": exif.tobytes()}):
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90, **options)
    uploads.append(out.getvalue())
del picture, out
baseline = peak_mb()
kept = []  # a request holds every normalised reference until it stores them
for round in range(8):
    for data in uploads:
        image = normalize_reference("r.jpg", io.BytesIO(data), len(data))
        thumbnail_webp(image.source)
        kept.append(image)
    if round == 0:
        first = peak_mb()
print(baseline, first, peak_mb())
"""


def test_it_releases_each_decoded_image_before_the_next():
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=root, capture_output=True, text=True, check=True
    )
    baseline, first, last = map(float, result.stdout.split())
    # An upright copy and the decoded original: about 2 x 24 MB, plus the encoder's buffers.
    assert first - baseline < 100, result.stdout
    # Seven more rounds of both: a leak of even one decoded image per reference would add 300 MB.
    assert last - first < 20, result.stdout
