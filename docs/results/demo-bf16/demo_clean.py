"""Clean victim on the demo's split: SIZE EPOCHS [SEED]."""
import sys, json, time
from imageprivacy.attacks.unlearnable.victim import train_victim, victim_recipe
from imageprivacy.experiments.unlearnable.demo import DemoConfig, load_demo_split
size, epochs = int(sys.argv[1]), int(sys.argv[2]); seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
train, other, test = load_demo_split(DemoConfig(train_size=size))
t = time.perf_counter()
row = train_victim(train, test, victim_recipe("paper", epochs=epochs, width=16), seed=seed)
print(json.dumps({"size": size, "epochs": epochs, "seed": seed, "final": row["final_test_acc"], "best": row["best_test_acc"], "fit": round(row["train_fit_acc"], 3), "s": round(time.perf_counter() - t)}), flush=True)
