"""The privacy-utility curve of a DeepObfuscator run (issue 16, item 4), assembled from its scored settings.

Utility: the intended-task accuracy of the setting's classifier on the test part. Leakage, both measured by
attackers trained afresh on the frozen features (evaluation.py):
- "private_accuracy": the fresh private-attribute attacker's accuracy; floor: guessing given the task;
- "ms_ssim": the highest attacker-side MS-SSIM among the reconstructors every curve setting is attacked with
  (`side_reconstructors`, the mirror AR by default), so every point is measured alike; floor: the mean image of
  the right group.
Series: "DeepObfuscator" over lambda1 = lambda2 (the main setting and the "lambda=<v>" points), "noise only"
over the std of the noise at O's output ("feature_noise=<s>": O + C trained with it, no adversary), "noise on
the image" (the section 4.3 baseline, one point) and "no defence" (O + C without privacy).
"""
from __future__ import annotations


def _point(setting: dict, knob, reconstructors: tuple[str, ...]) -> dict:
    rec = {n: r for n, r in setting["reconstructors"].items() if n in reconstructors} or setting["reconstructors"]
    ms = [r["attacker_side"]["ms_ssim"] for r in rec.values() if r["attacker_side"].get("ms_ssim") is not None]
    return {"knob": knob, "task_accuracy": setting["task_accuracy"]["accuracy"],
            "leakage": {"private_accuracy": setting["private_attacker"]["accuracy"],
                        "ms_ssim": max(ms) if ms else None}}


def privacy_utility(results: dict) -> dict:
    """{"knob", "task", "measures", "series"} from results["settings"], results["curve"] and the floors."""
    settings, cfg = results["settings"], results["config"]
    side = tuple(cfg["side_reconstructors"])
    series = {"DeepObfuscator": [_point(settings[c["setting"]], c["lambda"], side) for c in results["curve"]],
              "noise only": sorted((_point(s, s["feature_noise"], side) for s in settings.values()
                                    if s["kind"] == "feature-noise"), key=lambda p: p["knob"])}
    if "noise" in settings:
        series["noise on the image"] = [_point(settings["noise"], settings["noise"]["noise_std"], side)]
    if "no_adversarial" in settings:
        series["no defence"] = [_point(settings["no_adversarial"], None, side)]
    floor = results["reconstruction_floor"]["task_mean_image"]["ms_ssim"]
    return {"knob": {"DeepObfuscator": "lambda1 = lambda2", "noise only": "std of the noise at O's output",
                     "noise on the image": "std of the noise on the image"},
            "task": "intended-task accuracy",
            "measures": [{"key": "private_accuracy", "label": "private accuracy of the fresh attacker",
                          "floor": results["guessing"]["given_task"], "floor_name": "guessing given the task"},
                         {"key": "ms_ssim", "label": f"attacker-side MS-SSIM ({', '.join(side)}, fresh)",
                          "floor": floor, "floor_name": "mean image of the right group"}],
            "series": series}
