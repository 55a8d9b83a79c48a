"""Are the generator's patterns aligned with the classes' real features? Template matching on clean test images."""
import sys, json, time, torch
from imageprivacy.data import load_dataset
from imageprivacy.protections import ConfounderGAN
n = int(sys.argv[1]); seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
train = load_dataset("fashion-mnist", split="train"); test = load_dataset("fashion-mnist", split="test")
sub = train.subset(torch.arange(n)) if n < len(train) else train
x = test.images.float() / 255; y = test.labels; mu = sub.images.float().mean(0) / 255
def match(P):   # P: (K, 1, 28, 28) in {-1, 1}
    s = torch.einsum("nchw,kchw->nk", x - mu, P)
    return (s.argmax(1) == y).float().mean().item()
def proto_cos(P):
    means = torch.stack([(sub.images[sub.labels == k].float() / 255).mean(0) - mu for k in range(10)])
    a = means.flatten(1); b = P.flatten(1)
    return torch.nn.functional.cosine_similarity(a, b, dim=1).tolist()
g = torch.Generator().manual_seed(seed)
rand = (torch.randint(0, 2, (10, 1, 7, 7), generator=g).float() * 2 - 1).repeat_interleave(4, 2).repeat_interleave(4, 3)
t = time.perf_counter()
gan = ConfounderGAN(epsilon=16 / 255, seed=seed, selector_epochs=0).fit(sub)
gen = gan.generator.eval()
P = gen.tiled_patterns(28, 28).detach()
init = torch.Generator().manual_seed(seed)
out = {"n": n, "seed": seed, "fit_s": time.perf_counter() - t, "learned_match": match(P), "random_match": match(rand),
       "learned_cos": proto_cos(P), "random_cos": proto_cos(rand),
       "pattern_gram_offdiag_abs_mean": ((P.flatten(1) @ P.flatten(1).T / P[0].numel()).abs().sum() - 10).item() / 90,
       "random_gram_offdiag_abs_mean": ((rand.flatten(1) @ rand.flatten(1).T / rand[0].numel()).abs().sum() - 10).item() / 90}
print(json.dumps(out))
from imageprivacy.protections import save_protection
save_protection(gan, f"gen_{n}_{seed}.safetensors")
