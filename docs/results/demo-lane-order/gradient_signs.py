"""Share of pixels whose descent gradient sign agrees between float32 and bf16 autocast (a width-8 surrogate, 30 steps, 512 images)."""
import torch, torch.nn.functional as F
torch.set_num_threads(1); torch.manual_seed(0)
from imageprivacy.nets import build_net
from imageprivacy.data import load_dataset
tr = load_dataset("fashion-mnist", split="train").random_subset(512, seed=0)
x = tr.images.float()/255; y=torch.as_tensor(tr.labels)
m = build_net("resnet18", 1, 10, width=8, image_size=(28,28))
opt=torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
for _ in range(30):
    loss=F.cross_entropy(m(x[:128]),y[:128]); opt.zero_grad(); loss.backward(); opt.step()
m.eval().requires_grad_(False)
for ac in [False, True]:
    im = x.clone().requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=ac):
        out = m(im)
    g, = torch.autograd.grad(F.cross_entropy(out.float(), y), im)
    print("bf16" if ac else "fp32", "zero grad share", (g==0).float().mean().item(), "|g| median", g.abs().median().item())
    if not ac: g32=g
    else: print("sign agreement where both nonzero", ((g.sign()==g32.sign())|(g==0)|(g32==0)).float().mean().item(), "sign agree overall", (g.sign()==g32.sign()).float().mean().item())
