"""OpenCV's and FFmpeg's own log lines are for their developers; edgeinfer turns
each failure into one line of its own, so both are kept quiet unless
EDGEINFER_DEBUG is set."""
import os

if not os.environ.get("EDGEINFER_DEBUG"):
    # read by OpenCV when it first starts FFmpeg, so it must be set before any
    # video is opened or written in this process
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


def quiet_cv2():
    import cv2

    if not os.environ.get("EDGEINFER_DEBUG"):
        try:
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        except AttributeError:  # builds without the logging module
            pass
    return cv2
