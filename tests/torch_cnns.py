"""Small seeded PyTorch CNNs of the kinds people deploy (imports torch: only
for tests that skip without it)."""
import math

import torch
import torch.nn.functional as F
from torch import nn


class SamePad(nn.Module):
    """TF-style SAME padding computed from the input's shape at run time, as
    EfficientNet ports do: the legacy exporter writes it as a Shape chain."""

    def __init__(self, kernel, stride):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x):
        h, w = x.shape[-2:]
        pad_h = max((math.ceil(h / self.stride) - 1) * self.stride + self.kernel - h, 0)
        pad_w = max((math.ceil(w / self.stride) - 1) * self.stride + self.kernel - w, 0)
        return F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])


class InvertedResidual(nn.Module):
    def __init__(self, channels, expand):
        super().__init__()
        hidden = channels * expand
        self.expand = nn.Sequential(nn.Conv2d(channels, hidden, 1, bias=False),
                                    nn.BatchNorm2d(hidden), nn.ReLU6())
        self.depthwise = nn.Sequential(nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden,
                                                 bias=False), nn.BatchNorm2d(hidden),
                                       nn.Hardswish())
        self.excite = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(hidden, 8, 1), nn.ReLU(),
                                    nn.Conv2d(8, hidden, 1), nn.Hardsigmoid())
        self.project = nn.Sequential(nn.Conv2d(hidden, channels, 1, bias=False),
                                     nn.BatchNorm2d(channels))

    def forward(self, x):
        y = self.depthwise(self.expand(x))
        return x + self.project(y * self.excite(y))


class MobileNetLike(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(SamePad(3, 2), nn.Conv2d(3, 16, 3, stride=2), nn.BatchNorm2d(16),
                                  nn.ReLU())
        self.blocks = nn.Sequential(InvertedResidual(16, 3), nn.MaxPool2d(2, ceil_mode=True),
                                    InvertedResidual(16, 2))
        self.head = nn.Sequential(nn.Conv2d(16, 32, 1), nn.LeakyReLU(0.05),
                                  nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                                  nn.Linear(32, classes))

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)))


class ActivityCNN(nn.Module):
    """The sensor demo's shape: (N, 6, window) seen as a 1 x window image."""

    def __init__(self, channels=6, classes=4):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 16, (1, 5), padding=(0, 2)), nn.ReLU(), nn.MaxPool2d((1, 2)),
            nn.Conv2d(16, 32, (1, 5), padding=(0, 2)), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
            nn.Flatten())
        self.classify = nn.Linear(32, classes)

    def forward(self, x):
        return self.classify(self.features(x.unsqueeze(2)))


class SensorConv1d(nn.Module):
    def __init__(self, channels=6, classes=4):
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(channels, 12, 5, padding=2), nn.BatchNorm1d(12),
                                 nn.ReLU(), nn.MaxPool1d(2), nn.Conv1d(12, 12, 3, dilation=2),
                                 nn.Sigmoid(), nn.AdaptiveAvgPool1d(1), nn.Flatten(),
                                 nn.Linear(12, classes), nn.Softmax(dim=1))

    def forward(self, x):
        return self.net(x)


def seeded(model_class, seed=0):
    torch.manual_seed(seed)
    model = model_class()
    # batch-norm statistics away from the identity, so folding them is really checked
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
    return model.eval()


CNNS = {"mobilenet_like": (MobileNetLike, (1, 3, 45, 45)),
        "activity_cnn": (ActivityCNN, (1, 6, 50)),
        "sensor_conv1d": (SensorConv1d, (1, 6, 64))}
