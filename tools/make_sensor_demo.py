"""Builds the sensor demo from real smartwatch recordings: aeon's BasicMotions
(accelerometer + gyroscope at 10 Hz, 6 channels, 4 activities: badminton,
running, standing, walking; 40 recordings of 10 s to train, 40 to test).

Writes, into OUT_DIR (default out/sensor):
  basic_motions.onnx   a small 1-D CNN over 5 s windows, converted by edgeinfer
                       with its window, hop, channel names and statistics
  test_stream.csv      the test recordings one after another as a sample
                       stream (t, ax, ay, az, gx, gy, gz, activity)
and prints the CNN's and a k-nearest-neighbour baseline's window accuracy on
the test recordings.

usage: python tools/make_sensor_demo.py [OUT_DIR]   (needs torch and aeon)
"""
import os

import numpy as np

CHANNELS = ["ax", "ay", "az", "gx", "gy", "gz"]
SAMPLE_RATE = 10.0   # Hz, as recorded
WINDOW = 50          # samples: 5 s
HOP = 50             # windows tile each 100-sample recording exactly
SEED = 0


def load_split(split):
    from aeon.datasets import load_basic_motions

    x, y = load_basic_motions(split=split)
    return np.asarray(x, np.float32), np.asarray(y).astype(str)   # (recordings, 6, 100)


def windows_of(recordings, labels, starts):
    """Every window of WINDOW samples starting at `starts` in every recording."""
    xs = [r[:, s:s + WINDOW] for r in recordings for s in starts]
    ys = [label for label in labels for _ in starts]
    return np.stack(xs), np.asarray(ys)


def window_features(windows):
    """Per channel: mean, standard deviation and mean energy — the classic
    hand-made features for activity recognition."""
    return np.concatenate([windows.mean(axis=2), windows.std(axis=2),
                           (windows ** 2).mean(axis=2)], axis=1)


def knn_accuracy(train_x, train_y, test_x, test_y, k=3):
    """k-nearest neighbours on standardised window features, in numpy."""
    a, b = window_features(train_x), window_features(test_x)
    centre, scale = a.mean(axis=0), a.std(axis=0) + 1e-9
    a, b = (a - centre) / scale, (b - centre) / scale
    distances = ((b[:, None, :] - a[None, :, :]) ** 2).sum(axis=2)
    nearest = np.argsort(distances, axis=1)[:, :k]
    predicted = []
    for row in train_y[nearest]:
        names, counts = np.unique(row, return_counts=True)
        predicted.append(names[np.argmax(counts)])
    return float(np.mean(np.asarray(predicted) == test_y))


def build_cnn(classes):
    import torch

    class SignedReLU(torch.nn.Module):
        """ReLU of each response and of its negation (CReLU), doubling the
        channels: a plain ReLU drops every response of the sign the training
        placement never produced, and a sensor worn turned the other way flips
        the sign of its axes — then the features a new head could learn from
        are gone (BasicMotions worn 180 deg about z: a head on all 80 rotated
        training windows reached 96 % on a ReLU trunk, 100 % on this one)."""

        def forward(self, x):
            return torch.relu(torch.cat([x, -x], dim=1))

    class ActivityCNN(torch.nn.Module):
        """(N, channels, window) -> class logits. Each window is treated as a
        1 x window image so that it runs on the 2-D convolution core."""

        def __init__(self):
            super().__init__()
            self.features = torch.nn.Sequential(
                torch.nn.Conv2d(len(CHANNELS), 16, (1, 5), padding=(0, 2)), SignedReLU(),
                torch.nn.MaxPool2d((1, 2)),
                torch.nn.Conv2d(32, 32, (1, 5), padding=(0, 2)), SignedReLU(),
                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
            self.classify = torch.nn.Linear(64, classes)

        def forward(self, x):
            return self.classify(self.features(x.unsqueeze(2)))

    return ActivityCNN()


def train_cnn(train_x, train_y_index, classes, mean, std, epochs=150):
    import torch

    from edgeinfer.progress import progress

    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    model = build_cnn(classes)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    recordings = (train_x - mean[None, :, None]) / std[None, :, None]
    for _ in progress(range(epochs), total=epochs, desc="training the 1-D CNN", unit="epoch"):
        # a random 5 s window out of each 10 s recording: 51 positions per recording
        starts = rng.integers(0, recordings.shape[2] - WINDOW + 1, size=len(recordings))
        batch = np.stack([r[:, s:s + WINDOW] for r, s in zip(recordings, starts)])
        optimiser.zero_grad()
        loss = loss_fn(model(torch.from_numpy(batch)), torch.from_numpy(train_y_index))
        loss.backward()
        optimiser.step()
    return model.eval()


def write_stream(path, recordings, labels):
    """The recordings back to back, t continuing at SAMPLE_RATE across them."""
    rows, t = [], 0
    for recording, label in zip(recordings, labels):
        for sample in recording.T:
            rows.append(f"{t / SAMPLE_RATE:.1f}," + ",".join(f"{v:.6f}" for v in sample) +
                        f",{label}")
            t += 1
    with open(path, "w") as f:
        f.write("t," + ",".join(CHANNELS) + ",activity\n" + "\n".join(rows) + "\n")


def main(out_dir="out/sensor"):
    from edgeinfer.progress import step

    step("make_sensor_demo: loading PyTorch and BasicMotions (aeon) ...")
    import torch

    from edgeinfer.convert import from_torch

    os.makedirs(out_dir, exist_ok=True)
    train_x, train_y = load_split("train")
    test_x, test_y = load_split("test")
    classes = sorted(set(train_y))
    mean, std = train_x.mean(axis=(0, 2)), train_x.std(axis=(0, 2))

    model = train_cnn(train_x, np.asarray([classes.index(y) for y in train_y]), len(classes),
                      mean, std)
    starts = list(range(0, test_x.shape[2] - WINDOW + 1, HOP))
    windows, window_labels = windows_of(test_x, test_y, starts)
    with torch.no_grad():
        logits = model(torch.from_numpy((windows - mean[None, :, None]) / std[None, :, None]))
    cnn = float(np.mean(np.asarray(classes)[logits.argmax(1).numpy()] == window_labels))
    train_windows, train_labels = windows_of(train_x, train_y, starts)
    knn = knn_accuracy(train_windows, train_labels, windows, window_labels)

    model_path = os.path.join(out_dir, "basic_motions.onnx")
    from_torch(model, model_path, input_shape=(1, len(CHANNELS), WINDOW), labels=classes,
               preprocess=dict(window=WINDOW, hop=HOP, channels=CHANNELS, mean=mean.tolist(),
                               std=std.tolist(), layout="ncw", sample_rate=SAMPLE_RATE))
    stream_path = os.path.join(out_dir, "test_stream.csv")
    write_stream(stream_path, test_x, test_y)
    print(f"wrote {model_path} and {stream_path}")
    print(f"test windows: {len(window_labels)}; CNN accuracy {cnn:.1%}; "
          f"3-NN on mean/std/energy features {knn:.1%}")
    print(f"next: edgeinfer run --model {model_path} --sensor {stream_path}")
    return cnn, knn


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="out/sensor",
                        help="where the model and the stream go (default out/sensor)")
    main(parser.parse_args().out_dir)
