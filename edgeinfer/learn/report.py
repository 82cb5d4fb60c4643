"""eval's results for people and programs: a table and confusion matrices
on the terminal; in a report folder, report.md, report.json,
predictions.jsonl (one line per sample: its true class and every model's
answer — no timings, so a local and a Ray run write the same bytes), and with
--plot a confusion-matrix PNG per model, drawn with OpenCV.
"""
from __future__ import annotations

import json
import os
import re

import numpy as np

from ..sinks.output_files import atomic_write


def comparison_table(summaries):
    """A Markdown table: one row per model."""
    lines = ["| model | accuracy | mean ms/sample | p90 ms/sample |",
             "|---|---:|---:|---:|"]
    for s in summaries:
        lines.append(f"| {s['model']} | {_percent(s['accuracy'])} | "
                     f"{s['latency_ms']['mean']:.2f} | {s['latency_ms']['p90']:.2f} |")
    return "\n".join(lines)


def _percent(value):
    return "-" if value is None else f"{100 * value:.1f} %"


def confusion_text(summary):
    """The confusion matrix as aligned text: rows true classes, columns predicted."""
    confusion = summary["confusion"]
    columns = confusion["columns"]
    width = max(len(c) for c in columns + confusion["rows"]) + 1
    lines = ["true \\ predicted".ljust(width) + "".join(c.rjust(width) for c in columns)]
    for name, row in zip(confusion["rows"], confusion["counts"]):
        lines.append(name.ljust(width) + "".join(str(v).rjust(width) for v in row))
    return "\n".join(lines)


def notes(summary):
    unknown = summary["unknown_classes"]
    if not unknown:
        return []
    return [f"{summary['model']} has no label for {', '.join(unknown)}: those samples count as "
            "wrong for it"]


def markdown(data_path, summaries):
    parts = [f"# Evaluation on {data_path}", "",
             f"{summaries[0]['samples']} samples; latency is per sample (preprocess + "
             "inference + postprocess).", "", comparison_table(summaries), ""]
    for summary in summaries:
        parts += [f"## {summary['model']}", ""]
        parts += [f"Note: {line}." for line in notes(summary)] + ([""] if notes(summary) else [])
        parts += ["| class | precision | recall | F1 | samples |", "|---|---:|---:|---:|---:|"]
        for name, c in summary["per_class"].items():
            parts.append(f"| {name} | {c['precision']:.3f} | {c['recall']:.3f} | "
                         f"{c['f1']:.3f} | {c['support']} |")
        parts += ["", "Confusion matrix (rows: true class, columns: predicted):", "", "```",
                  confusion_text(summary), "```", ""]
    return "\n".join(parts)


def prediction_lines(test_set, outcomes):
    """One JSON line per sample, in test-set order."""
    lines = []
    for i in range(len(test_set.items)):
        record = {"sample": test_set.name_of(i),
                  "truth": test_set.classes[int(test_set.labels[i])],
                  "predictions": {o.name: {"label": o.predicted[i], "score": round(o.scores[i], 6)}
                                  for o in outcomes}}
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    return "".join(lines)


def report_json(test_set, summaries):
    """report.json's text: the test set and every model's summary."""
    return json.dumps({"test_data": test_set.root, "classes": test_set.classes,
                       "models": summaries}, indent=2, ensure_ascii=False) + "\n"


def write_report(folder, test_set, outcomes, summaries, plot=False):
    """report.md, report.json, predictions.jsonl (and PNGs); returns the paths written."""
    os.makedirs(folder, exist_ok=True)
    written = []

    def put(name, text):
        path = os.path.join(folder, name)
        atomic_write(path, lambda f: f.write(text.encode("utf-8")))
        written.append(path)

    put("report.json", report_json(test_set, summaries))
    put("report.md", markdown(test_set.root, summaries))
    put("predictions.jsonl", prediction_lines(test_set, outcomes))
    if plot:
        for summary in summaries:
            path = os.path.join(folder, f"confusion-{_file_stem(summary['model'])}.png")
            write_confusion_png(path, summary)
            written.append(path)
    return written


def _file_stem(name):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "model"


def write_confusion_png(path, summary, cell=36):
    """The confusion matrix as an image: each row shaded by the share of its
    class's samples in each cell, counts written in."""
    from ..opencv_io import quiet_cv2

    cv2 = quiet_cv2()
    confusion = summary["confusion"]
    counts = np.asarray(confusion["counts"], np.float64)
    rows, columns = confusion["rows"], confusion["columns"]
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.4
    margin = 12 + max(cv2.getTextSize(n, font, scale, 1)[0][0] for n in rows + columns)
    top = margin + 24
    image = np.full((top + cell * len(rows) + 10, margin + cell * len(columns) + 10, 3), 255,
                    np.uint8)
    title = f"{summary['model']}: accuracy {_percent(summary['accuracy'])}"
    cv2.putText(image, title, (4, 16), font, scale, (0, 0, 0), 1, cv2.LINE_AA)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    for r, name in enumerate(rows):
        y = top + r * cell
        cv2.putText(image, name, (4, y + cell // 2 + 4), font, scale, (0, 0, 0), 1, cv2.LINE_AA)
        for c in range(len(columns)):
            x = margin + c * cell
            shade = int(255 - 200 * share[r, c])
            colour = (255, shade, shade) if r == c else (shade, shade, 255)
            cv2.rectangle(image, (x, y), (x + cell - 2, y + cell - 2), colour, -1)
            text = str(int(counts[r, c]))
            size = cv2.getTextSize(text, font, scale, 1)[0]
            cv2.putText(image, text, (x + (cell - size[0]) // 2, y + (cell + size[1]) // 2),
                        font, scale, (0, 0, 0), 1, cv2.LINE_AA)
    # column names run down, written sideways
    for c, name in enumerate(columns):
        size = cv2.getTextSize(name, font, scale, 1)[0]
        label = np.full((size[1] + 8, size[0] + 8, 3), 255, np.uint8)
        cv2.putText(label, name, (4, size[1] + 2), font, scale, (0, 0, 0), 1, cv2.LINE_AA)
        label = cv2.rotate(label, cv2.ROTATE_90_COUNTERCLOCKWISE)
        h, w = label.shape[:2]
        x = margin + c * cell + (cell - w) // 2
        y0 = max(0, top - 4 - h)
        image[y0:y0 + h, x:x + w] = label[:top - 4 - y0, :image.shape[1] - x]
    ok = cv2.imwrite(path, image)
    if not ok:
        raise OSError(f"cannot write {path}")
