"""Does averaging the selector's choice over an image and its mirror image pick the right pattern more often?

Argument: the new-images generator of a demo run (`imageprivacy demo --out DIR` writes
DIR/confoundergan-new.safetensors, fitted on the 4k images the victims do not train on). Counts the
agreement with the labels of the demo's 4k victim images (never seen by it), its own 4k and the demo's 2k
test images, argmax of the logits against argmax of the two softmaxes' sum. Writes flip_tta.json.
"""
import json
import sys

import torch

from imageprivacy.experiments.unlearnable.demo import DemoConfig, load_demo_split
from imageprivacy.protections import load_protection

train, other, test = load_demo_split(DemoConfig())
generator = load_protection(sys.argv[1]).generator.eval()
rows = {}
for name, data in (("victims' 4k (unseen)", train), ("its own 4k (fitted)", other), ("test 2k", test)):
    x = data.images.float() / 255
    with torch.no_grad():
        plain = torch.cat([generator.mixing_logits(x[i:i + 500]) for i in range(0, len(x), 500)])
        mirror = torch.cat([generator.mixing_logits(x[i:i + 500].flip(-1)) for i in range(0, len(x), 500)])
    rows[name] = {"argmax": (plain.argmax(1) == data.labels).float().mean().item(),
                  "with_mirror": ((plain.softmax(1) + mirror.softmax(1)).argmax(1) == data.labels).float().mean().item()}
print(json.dumps(rows, indent=1))
with open("docs/results/ood-selection/flip_tta.json", "w") as f:
    json.dump({"generator": sys.argv[1], "agreement": rows}, f, indent=1)
