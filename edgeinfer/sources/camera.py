"""Live cameras: USB/V4L2 cameras through OpenCV, and Raspberry Pi camera
modules through picamera2 (on Pi OS Bookworm libcamera owns CSI cameras and
cv2.VideoCapture(0) cannot open them)."""
from __future__ import annotations

import glob
import os
import sys

from ..errors import SourceError
from ..opencv_io import quiet_cv2
from .capture import CaptureLatest, reopening

ON_LINUX = sys.platform.startswith("linux")

TRY_INSTEAD = ("or run on a file with --video FILE or --image FILE")


def video_devices():
    return sorted(glob.glob("/dev/video*"), key=lambda p: (len(p), p))


def _device_of(spec):
    """(what cv2 opens, the device path, a name for messages) for 0, "0" or "/dev/video0"."""
    text = str(spec)
    if text.isdigit():
        index = int(text)
        return index, f"/dev/video{index}", f"camera {index}"
    if text.startswith("/dev/"):
        return text, text, f"camera {text}"
    raise SourceError(f"--camera takes a number (0 for the first camera), a device such as "
                      f"/dev/video0, or 'picam'; got {spec!r}")


def open_camera(spec=0, size=None, backoff=None):
    """A started live source reading a V4L2/USB camera; SourceError when there is none."""
    cv2 = quiet_cv2()
    target, device, name = _device_of(spec)
    if ON_LINUX and not os.path.exists(device):
        found = video_devices()
        have = f"cameras here: {', '.join(found)}" if found else \
            "this machine has no /dev/video* devices"
        raise SourceError(f"{name}: no such device {device} ({have}). Plug in a USB camera and "
                          "check `ls /dev/video*`, use --camera picam for a Raspberry Pi camera "
                          f"module, {TRY_INSTEAD}")
    api = cv2.CAP_V4L2 if ON_LINUX else cv2.CAP_ANY

    def open_device():
        capture = cv2.VideoCapture(target, api)
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"{name} ({device}) exists but does not open: another program may "
                              "be using it, or your user may need to be in the 'video' group; a "
                              "Pi camera module on Pi OS Bookworm needs --camera picam")
        # the driver's own queue is what makes naive loops lag: keep it to one frame
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        if size:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        return capture

    first = open_device()
    ok, _ = first.read()
    if not ok:
        first.release()
        # the Bookworm trap: a CSI camera module's /dev/video nodes open, then give nothing
        raise SourceError(f"{name} ({device}) opens but delivers no frames: for a Raspberry Pi "
                          "camera module use --camera picam; otherwise check the camera works "
                          f"(e.g. `v4l2-ctl --stream-mmap -d {device}`), {TRY_INSTEAD}")
    fps = first.get(cv2.CAP_PROP_FPS) or None
    source = CaptureLatest(reopening(first, open_device), f"{name} ({device})",
                           backoff=backoff, fps=fps)
    return source.start()


PICAMERA2_MISSING = (
    "--camera picam needs the picamera2 package, which is not installed here. On Raspberry Pi "
    "OS: `sudo apt install python3-picamera2`, and create the virtual environment with "
    "`python3 -m venv --system-site-packages .venv` so it can see it; a USB camera works with "
    f"--camera 0, {TRY_INSTEAD}")


class PicameraDevice:
    """picamera2 behind the read()/release() pair CaptureLatest expects."""

    def __init__(self, camera):
        self.camera = camera

    def read(self):
        # libcamera's "RGB888" is B, G, R in memory: the BGR order OpenCV and we use
        return True, self.camera.capture_array("main")

    def release(self):
        self.camera.stop()
        self.camera.close()


def open_picam(size=(640, 480), backoff=None):
    """A started live source reading a Raspberry Pi camera module through picamera2."""
    try:
        from picamera2 import Picamera2
    except ImportError:
        raise SourceError(PICAMERA2_MISSING) from None

    def open_device():
        try:
            camera = Picamera2()
            config = camera.create_video_configuration(main={"format": "RGB888",
                                                             "size": tuple(size)})
            camera.configure(config)
            camera.start()
        except Exception as error:  # picamera2 signals a missing camera with IndexError etc.
            raise SourceError(f"the Pi camera does not open ({error or type(error).__name__}): "
                              "check the ribbon cable and that `rpicam-hello --list-cameras` "
                              f"lists it, {TRY_INSTEAD}") from None
        return PicameraDevice(camera)

    first = open_device()
    return CaptureLatest(reopening(first, open_device), "Pi camera",
                         backoff=backoff).start()
