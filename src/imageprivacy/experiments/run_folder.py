"""A staged experiment's run folder: its config.json, and the keys its cached stages are stored under.

DPF and DeepObfuscator runs both train in stages that are cached by the settings they depend on,
and both keep their config in RUN_DIR/config.json; this is the one place that does either.
"""
from __future__ import annotations

import json
from pathlib import Path

from imageprivacy.errors import CheckpointError


def stage_key(config: dict, fields: tuple[str, ...], *extra: str, **more) -> str:
    """JSON of `fields` (+ `extra` fields and `more` values) of `config`: what a cached stage depends on."""
    return json.dumps({**{k: config[k] for k in (*fields, *extra)}, **more}, sort_keys=True)


def write_run_config(config: dict, run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(config, indent=2))


def read_run_config(run_dir: Path, from_dict, what: str, train_command: str):
    """`from_dict` of RUN_DIR/config.json; CheckpointError naming `train_command` when it is missing or bad."""
    try:
        return from_dict(json.loads((Path(run_dir) / "config.json").read_text()))
    except (OSError, json.JSONDecodeError, TypeError) as err:
        raise CheckpointError(f"{run_dir} is not {what} run folder (no readable config.json: {err}); "
                              f"run `{train_command}` first") from err
