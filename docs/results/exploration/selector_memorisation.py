"""Bench: how fast can a selector fit (memorise) the labels of 60k Fashion-MNIST images on 2 CPU cores.

    python docs/results/exploration/selector_memorisation.py WIDTH EPOCHS N LR   (here: 32 15 60000 0.003)
"""
import json, sys, time, math
import torch, torch.nn as nn, torch.nn.functional as F

from imageprivacy import load_dataset
torch.set_num_threads(2)

def cnn(w):
    return nn.Sequential(
        nn.Conv2d(1, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(),
        nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(),
        nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1), nn.BatchNorm2d(4 * w), nn.ReLU(),
        nn.Conv2d(4 * w, 4 * w, 3, stride=2, padding=1), nn.BatchNorm2d(4 * w), nn.ReLU(),
        nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(64 * w, 256), nn.ReLU(), nn.Linear(256, 10))

@torch.no_grad()
def acc(m, x, y):
    m.eval(); c = 0
    for i in range(0, len(x), 1000):
        c += (m(x[i:i+1000].float() / 255).argmax(1) == y[i:i+1000]).sum().item()
    m.train(); return c / len(x)

if __name__ == "__main__":
    w, epochs, n, lr = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    tr = load_dataset("fashion-mnist", split="train").subset(torch.arange(n))
    te = load_dataset("fashion-mnist", split="test")
    x, y = tr.images, tr.labels
    torch.manual_seed(0)
    m = cnn(w)
    opt = torch.optim.Adam(m.parameters(), lr=lr)
    steps = epochs * math.ceil(n / 128); sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps)
    t0 = time.time()
    for e in range(epochs):
        for idx in torch.randperm(n).split(128):
            loss = F.cross_entropy(m(x[idx].float() / 255), y[idx])
            opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        if (e + 1) % max(1, epochs // 5) == 0 or e == epochs - 1:
            print(json.dumps({"w": w, "epoch": e + 1, "train": acc(m, x, y), "test": acc(m, te.images, te.labels),
                              "s": round(time.time() - t0)}), flush=True)
