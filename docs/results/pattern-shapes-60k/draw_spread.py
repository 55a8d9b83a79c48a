"""Template match on the clean test images of ten random 4-px sign draws (shapes60k.py's draw), plain and mirrored."""
import json, torch
from imageprivacy.data import load_dataset
tr = load_dataset("fashion-mnist", split="train"); te = load_dataset("fashion-mnist", split="test")
mu = (tr.images.float() / 255).mean(0); xt = te.images.float() / 255
def shape(seed, mirror, cells=7):
    coarse = torch.randint(0, 2, (10, 1, cells, cells), generator=torch.Generator().manual_seed(seed)).float() * 2 - 1
    if mirror:
        coarse = torch.where(torch.arange(cells) < cells - 1 - torch.arange(cells), coarse, coarse.flip(3))
    return coarse.repeat_interleave(4, 2).repeat_interleave(4, 3)[:, :, :28, :28]
for mirror in (False, True):
    m = [(torch.einsum("nchw,kchw->nk", xt - mu, shape(s, mirror)).argmax(1) == te.labels).float().mean().item()
         for s in range(10)]
    print(json.dumps({"mirror": mirror, "seeds": list(range(10)), "template_match": [round(v, 4) for v in m]}))
