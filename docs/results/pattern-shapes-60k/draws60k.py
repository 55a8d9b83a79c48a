"""60k, label-aware: the mixture generator's own patterns (its tile geometry, eval mode as protect writes them),
drawn as fit draws them (pattern_draw.py), each label's own pattern; paper victim 10 epochs.

python draws60k.py MIRROR(0/1) DRAWS SEED [RECIPE EPOCHS]; DRAWS 1 = the first random draw.
"""
import sys, json, time, torch
from dataclasses import replace
from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.data import load_dataset
from imageprivacy.metrics.image_quality import protection_quality
from imageprivacy.nets.generator import GeneratorConfig, build_generator
from imageprivacy.protections.pixel_budget import apply_noise_uint8
from imageprivacy.protections.unlearnable.pattern_draw import draw_least_aligned_patterns, template_match

mirror, draws, seed = bool(int(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
recipe, epochs = (sys.argv[4], int(sys.argv[5])) if len(sys.argv) > 5 else ("paper", 10)
train = load_dataset("fashion-mnist", split="train"); test = load_dataset("fashion-mnist", split="test")
torch.manual_seed(seed)
g = build_generator(replace(GeneratorConfig(), channels=1, num_classes=10, epsilon=16 / 255, mirror_patterns=mirror))
record = draw_least_aligned_patterns(g, train.images, train.labels, draws, seed)
g.eval()
with torch.no_grad():
    noise = torch.cat([g.pattern_noise(y, 28, 28) for y in train.labels.split(4096)])
protected = apply_noise_uint8(train.images, noise, 16 / 255)
ps = train.with_images(protected, name="label-aware-draw")
t0 = time.perf_counter()
row = train_victim(ps, test, victim_recipe(recipe, epochs=epochs, width=16), seed=seed)
print(json.dumps({"mirror": mirror, "draws": draws, "seed": seed, "recipe": recipe, "epochs": epochs, **record,
                  "test_template_match": template_match(g, test.images, test.labels),
                  "psnr": protection_quality(train.images, ps.images)["psnr_mean_db"],
                  "final": row["final_test_acc"], "best": row["best_test_acc"], "fits": row["train_fit_acc"],
                  "curve": row["test_acc"], "s": round(time.perf_counter() - t0)}), flush=True)
