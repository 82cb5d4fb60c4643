"""Small seeded PyTorch models shaped like the detectors people run on edge
devices (imports torch: only for tests that skip without it): MTCNN's P-, R-
and O-Nets, and a YOLOv8n-style detector."""
import torch
from torch import nn


class PNet(nn.Module):
    """MTCNN stage 1: fully convolutional, any input size."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 10, 3), nn.PReLU(10), nn.MaxPool2d(2, 2, ceil_mode=True),
                                  nn.Conv2d(10, 16, 3), nn.PReLU(16),
                                  nn.Conv2d(16, 32, 3), nn.PReLU(32))
        self.face = nn.Conv2d(32, 2, 1)
        self.box = nn.Conv2d(32, 4, 1)

    def forward(self, x):
        x = self.body(x)
        return torch.softmax(self.face(x), dim=1), self.box(x)


class RNet(nn.Module):
    """MTCNN stage 2 on 24x24 crops: convs, then dense layers with PReLU."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 28, 3), nn.PReLU(28),
                                  nn.MaxPool2d(3, 2, ceil_mode=True),
                                  nn.Conv2d(28, 48, 3), nn.PReLU(48),
                                  nn.MaxPool2d(3, 2, ceil_mode=True),
                                  nn.Conv2d(48, 64, 2), nn.PReLU(64))
        self.dense = nn.Sequential(nn.Linear(576, 128), nn.PReLU(128))
        self.face = nn.Linear(128, 2)
        self.box = nn.Linear(128, 4)

    def forward(self, x):
        x = self.body(x).permute(0, 3, 2, 1).flatten(1)
        x = self.dense(x)
        return torch.softmax(self.face(x), dim=1), self.box(x)


class ONet(nn.Module):
    """MTCNN stage 3 on 48x48 crops: adds five facial landmarks."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 32, 3), nn.PReLU(32),
                                  nn.MaxPool2d(3, 2, ceil_mode=True),
                                  nn.Conv2d(32, 64, 3), nn.PReLU(64),
                                  nn.MaxPool2d(3, 2, ceil_mode=True),
                                  nn.Conv2d(64, 64, 3), nn.PReLU(64),
                                  nn.MaxPool2d(2, 2, ceil_mode=True),
                                  nn.Conv2d(64, 128, 2), nn.PReLU(128))
        self.dense = nn.Sequential(nn.Linear(1152, 256), nn.PReLU(256))
        self.face = nn.Linear(256, 2)
        self.box = nn.Linear(256, 4)
        self.landmarks = nn.Linear(256, 10)

    def forward(self, x):
        x = self.body(x).permute(0, 3, 2, 1).flatten(1)
        x = self.dense(x)
        return torch.softmax(self.face(x), dim=1), self.box(x), self.landmarks(x)


class ConvBnSiLU(nn.Module):
    def __init__(self, cin, cout, k=1, s=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut=True):
        super().__init__()
        self.cv1, self.cv2 = ConvBnSiLU(c, c, 3), ConvBnSiLU(c, c, 3)
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    """YOLOv8's block: split a conv's output in two, chain bottlenecks on one
    half, concatenate every stage."""

    def __init__(self, cin, cout, n=1, shortcut=True):
        super().__init__()
        self.c = cout // 2
        self.cv1 = ConvBnSiLU(cin, 2 * self.c)
        self.cv2 = ConvBnSiLU((2 + n) * self.c, cout)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).split((self.c, self.c), 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        hidden = cin // 2
        self.cv1, self.cv2 = ConvBnSiLU(cin, hidden), ConvBnSiLU(hidden * 4, cout)
        self.pool = nn.MaxPool2d(5, 1, 2)

    def forward(self, x):
        y = [self.cv1(x)]
        y.extend(self.pool(y[-1]) for _ in range(3))
        return self.cv2(torch.cat(y, 1))


class DFL(nn.Module):
    """Distribution focal loss decoding: softmax over 16 bins, expectation by
    a fixed 1x1 conv."""

    def __init__(self, bins=16):
        super().__init__()
        self.conv = nn.Conv2d(bins, 1, 1, bias=False).requires_grad_(False)
        self.conv.weight.data[:] = torch.arange(bins, dtype=torch.float).view(1, bins, 1, 1)
        self.bins = bins

    def forward(self, x):
        b, _, a = x.shape
        return self.conv(x.view(b, 4, self.bins, a).transpose(2, 1).softmax(1)).view(b, 4, a)


class YoloV8Style(nn.Module):
    """A YOLOv8n-shaped detector, narrow: backbone of Conv/C2f with SPPF, an
    FPN neck with nearest 2x upsampling and concatenation, and the anchor-free
    detect head (box DFL with softmax, class sigmoid) on three scales."""

    def __init__(self, classes=3, size=64, width=(8, 16, 32, 32), bins=16):
        super().__init__()
        w0, w1, w2, w3 = width
        self.stem = nn.Sequential(ConvBnSiLU(3, w0, 3, 2), ConvBnSiLU(w0, w1, 3, 2), C2f(w1, w1))
        self.p3 = nn.Sequential(ConvBnSiLU(w1, w2, 3, 2), C2f(w2, w2, 2))
        self.p4 = nn.Sequential(ConvBnSiLU(w2, w3, 3, 2), C2f(w3, w3))
        self.p5 = nn.Sequential(ConvBnSiLU(w3, w3, 3, 2), C2f(w3, w3), SPPF(w3, w3))
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.top_down4 = C2f(w3 + w3, w3, shortcut=False)
        self.top_down3 = C2f(w3 + w2, w2, shortcut=False)
        self.down4 = ConvBnSiLU(w2, w2, 3, 2)
        self.bottom_up4 = C2f(w2 + w3, w3, shortcut=False)
        self.down5 = ConvBnSiLU(w3, w3, 3, 2)
        self.bottom_up5 = C2f(w3 + w3, w3, shortcut=False)
        self.bins, self.classes = bins, classes
        channels = (w2, w3, w3)
        self.box = nn.ModuleList(nn.Sequential(ConvBnSiLU(c, 16, 3), ConvBnSiLU(16, 16, 3),
                                               nn.Conv2d(16, 4 * bins, 1)) for c in channels)
        self.cls = nn.ModuleList(nn.Sequential(ConvBnSiLU(c, 16, 3), ConvBnSiLU(16, 16, 3),
                                               nn.Conv2d(16, classes, 1)) for c in channels)
        self.dfl = DFL(bins)
        anchors, strides = [], []
        for stride in (8, 16, 32):
            n = size // stride
            ys, xs = torch.meshgrid(torch.arange(n) + 0.5, torch.arange(n) + 0.5, indexing="ij")
            anchors.append(torch.stack((xs, ys), -1).view(-1, 2))
            strides.append(torch.full((n * n, 1), float(stride)))
        self.register_buffer("anchors", torch.cat(anchors).transpose(0, 1)[None])
        self.register_buffer("strides", torch.cat(strides).transpose(0, 1)[None])

    def forward(self, x):
        p3 = self.p3(self.stem(x))
        p4 = self.p4(p3)
        p5 = self.p5(p4)
        t4 = self.top_down4(torch.cat((self.up(p5), p4), 1))
        t3 = self.top_down3(torch.cat((self.up(t4), p3), 1))
        b4 = self.bottom_up4(torch.cat((self.down4(t3), t4), 1))
        b5 = self.bottom_up5(torch.cat((self.down5(b4), p5), 1))
        levels = [torch.cat((box(f), cls(f)), 1) for f, box, cls in
                  zip((t3, b4, b5), self.box, self.cls)]
        b = x.shape[0]
        flat = torch.cat([level.view(b, 4 * self.bins + self.classes, -1) for level in levels], 2)
        box, cls = flat.split((4 * self.bins, self.classes), 1)
        left_top, right_bottom = self.dfl(box).chunk(2, 1)
        top_left = self.anchors - left_top
        bottom_right = self.anchors + right_bottom
        centre, size = (top_left + bottom_right) / 2, bottom_right - top_left
        return torch.cat((torch.cat((centre, size), 1) * self.strides, cls.sigmoid()), 1)


def seeded(model_class, seed=0, **kwargs):
    """An instance with seeded weights and non-trivial batch-norm statistics, in eval mode."""
    torch.manual_seed(seed)
    model = model_class(**kwargs)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
        if isinstance(module, nn.PReLU):
            module.weight.data.uniform_(-0.3, 0.6)   # negative slopes too: the general path
    return model.eval()
