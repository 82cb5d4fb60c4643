"""OpenCV's own log lines are for OpenCV developers; edgeinfer turns each
failure into one line of its own, so OpenCV is kept quiet unless debugging."""
import os


def quiet_cv2():
    import cv2

    if not os.environ.get("EDGEINFER_DEBUG"):
        try:
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        except AttributeError:  # builds without the logging module
            pass
    return cv2
