"""Writes the sample media shipped with edgeinfer from real photographs in
scikit-image's data set: edgeinfer/data/chelsea.jpg (a tabby cat) and
coffee.jpg (a cup of espresso)."""
import os

import cv2
import skimage.data

DATA_DIR = os.path.join(os.path.dirname(__file__), os.pardir, "edgeinfer", "data")


def main():
    os.makedirs(DATA_DIR, exist_ok=True)
    for name in ("chelsea", "coffee"):
        rgb = getattr(skimage.data, name)()
        path = os.path.join(DATA_DIR, f"{name}.jpg")
        cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        print(f"wrote {os.path.normpath(path)} ({rgb.shape[1]}x{rgb.shape[0]})")


if __name__ == "__main__":
    main()
