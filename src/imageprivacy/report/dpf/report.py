"""Markdown report of a DPF run (the paper's Tables 1-4, Fig. 6/7, 3.2.3, 4.4), from results.json only."""
from __future__ import annotations

import json
from pathlib import Path

from imageprivacy.metrics.attacker_side import STRETCH_TEXT
from imageprivacy.report.dpf.reconstruction_tables import (privacy_utility_section, reconstruction_table,
                                                          training_section)
from imageprivacy.report.dpf.targets import check_targets
from imageprivacy.report.image_mosaic import draw_saved_rows
from imageprivacy.report.markdown_table import decimal as _num
from imageprivacy.report.markdown_table import markdown_table as _table
from imageprivacy.report.markdown_table import percent as _pct
from imageprivacy.report.markdown_table import config_block, write_markdown


def _feature_rows(rows: dict) -> list[list]:
    return [[name, _pct(r.get("top1")), _pct(r.get("top5")), _num(r.get("l1")), _num(r.get("ssim")),
             _num(r.get("attacker_side", {}).get("ssim"))] for name, r in rows.items()]


def _side_ssim(row: dict) -> str:
    return _num(row.get("attacker_side", {}).get("ssim"))


def dpf_markdown(results: dict) -> list[str]:
    cfg, cls = results["config"], results["classification"]
    k = results["num_private_classes"]
    lines = [f"# Deep Poisoning Functions on {cfg['data']}", "",
             f"Generated from `results.json` (finished {results.get('finished_utc')}, commit "
             f"{results.get('git_commit')}, device {results.get('machine', {}).get('device')}). {cfg['backbone']} "
             f"width {cfg['width']}, hook {cfg['hook']} (features {results['feature_shape']}); private classes "
             f"{cfg['private_classes']}; sizes {results['sizes']}; epochs Phi {cfg['phi_epochs']}, psi "
             f"{cfg['psi_epochs']}, DPF {cfg['dpf_epochs']}; P's objective `{cfg.get('dpf_objective', 'ssim')}` "
             f"against "
             f"{', '.join(cfg.get('dpf_decoders', ['px2s2']))}"
             + (f", retrained every {cfg['dpf_refresh_every']} epochs on {cfg['dpf_refresh_on']} features"
                if cfg.get("dpf_refresh_every") else "") + f"; seed {cfg['seed']}.", "", "## Targets (issue 16)", ""]
    met = {True: "yes", False: "**no**", None: "-"}
    lines += _table(["target", "measured", "met"], [[c.target, c.measured, met[c.met]] for c in check_targets(results)])
    lines += ["", "## Table 1: classification by phi2 (S-val, %)", ""]
    lines += _table(["metric", "original", "poisoned"], [[m, _pct(cls["original"][m]), _pct(cls["poisoned"][m])]
                                                         for m in ("top1", "top5")])
    if k <= 5:
        lines += ["", f"S has {k} classes, so top-5 is 100 % by definition."]
    rec = results["reconstruction"]
    lines += ["", "## Table 2 and Fig. 7: reconstruction of S-val", "",
              f"psi on its own public validation images: L1 {_num(rec['public_val_original']['l1'])}, SSIM "
              f"{_num(rec['public_val_original']['ssim'])}. Attacker-side: the best of the raw output, its negative, "
              f"an intensity remap a x + b fitted on the attacker's own public pairs (Q-val) and {STRETCH_TEXT}, "
              "per metric (the "
              "variant in brackets when it is not the raw output). Content-free references in italics, scored on "
              "the same S-val images.", ""]
    lines += reconstruction_table(results)
    if "stationary" in results:
        lines += ["", "## Table 3: stationary vs deep poisoning (phi2 %, psi)", ""]
        lines += _table(["poisoning", "top-1", "top-5", "L1", "SSIM", "SSIM attacker-side"],
                        _feature_rows(results["stationary"]["rows"]))
    if "hook_depth" in results:
        lines += ["", "## Table 4: featurizer depth (original / poisoned)", ""]
        rows = []
        for hook, r in results["hook_depth"].items():
            if "skipped" in r:
                rows.append([hook, "skipped: " + r["skipped"], "", "", "", ""])
            elif "original" not in r:
                rows.append([hook, f"{_pct(r['top1'])} / -", f"{_pct(r['top5'])} / -", "-", "-", "-"])
            else:
                o, p = r["original"], r["poisoned"]
                rows.append([f"{hook} {r['feature_shape']}", f"{_pct(o['top1'])} / {_pct(p['top1'])}",
                             f"{_pct(o['top5'])} / {_pct(p['top5'])}", f"{_num(o['l1'])} / {_num(p['l1'])}",
                             f"{_num(o['ssim'])} / {_num(p['ssim'])}", f"{_side_ssim(o)} / {_side_ssim(p)}"])
        lines += _table(["hook", "top-1", "top-5", "L1", "SSIM", "SSIM attacker-side"], rows)
    lines += _extra_sections(results)
    return lines


def _extra_sections(results: dict) -> list[str]:
    lines = []
    if "secondary_attack" in results:
        s, best = results["secondary_attack"], results["secondary_attack"]["partial_release_best"]
        lines += ["", "## Section 3.2.3: secondary attack", "",
                  f"Had P been released, a {s['obfuscator_released']['reconstructor']} trained on (Q, P(phi1(Q))) "
                  f"reaches SSIM {_num(s['obfuscator_released']['ssim'])} raw, "
                  f"{_side_ssim(s['obfuscator_released'])} attacker-side, on the poisoned S-val features; under the "
                  f"partial release the best attacker ({best['reconstructor']}) reaches {_num(best['ssim'])} raw, "
                  f"{_side_ssim(best)} attacker-side."]
    if "reusability" in results:
        r = results["reusability"]
        lines += ["", "## Reusability of the release (top-1 %)", ""]
        lines += _table(["classifier", "trained on", "new images (S-val)", "poisoned S-val"], [
            ["Phi", "S-train images", _pct(r["phi"]["top1"]), "-"],
            ["phi2 on the released bank", "-", "-", _pct(r["released_bank"]["phi2_on_bank"]["top1"]) + " (bank)"],
            ["phi3", "released poisoned features", _pct(r["phi3"]["new_images"]["top1"]),
             _pct(r["phi3"]["poisoned"]["top1"])],
        ])
        p4 = r["phi4"]
        lines += ["", f"phi4 (release + clean features of {p4['new_images_added']} new images), on the other "
                      f"{p4['held_out']}: {_pct(p4['phi4_held_out']['top1'])} (Phi {_pct(p4['phi_held_out']['top1'])}, "
                      f"phi3 {_pct(p4['phi3_held_out']['top1'])})."]
    if "random_labels" in results:
        v = results["random_labels"]
        lines += ["", "## Section 4.4 analogue: DPF toward random private labels (top-1 %)", "",
                  f"Coarse groups {v['groups']} are the task, the fine class is private. Chance: uniform "
                  f"{_pct(v['chance']['uniform'])}, within the right group {_pct(v['chance']['within_group'])}.", ""]
        rows = [["phi2 coarse task", _pct(v["coarse_top1"]["original"]), _pct(v["coarse_top1"]["poisoned"])]]
        rows += [[f"fine-class attacker ({name})", _pct(a["original"]), _pct(a["poisoned"])]
                 for name, a in v["attacker_fine_top1"].items()]
        lines += _table(["model", "original", "poisoned"], rows)
    return lines


def write_dpf_report(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir)
    results = json.loads((run_dir / "results.json").read_text())
    lines = dpf_markdown(results) + training_section(results, run_dir) + privacy_utility_section(results, run_dir)
    if (run_dir / "images.safetensors").is_file():
        draw_saved_rows(run_dir / "images.safetensors", run_dir / "dpf_images.png")
        lines += ["", "## Fig. 6 / 7: raw, then reconstructions from original and poisoned features", "",
                  "![reconstructions](dpf_images.png)"]
    lines += ["", *config_block(results["config"])]
    return write_markdown(lines, run_dir)
