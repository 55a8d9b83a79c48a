"""One process of a torchrun launch: runs an `imageprivacy` command and logs every write it makes under a folder.

    torchrun --standalone --nproc_per_node 2 audited_command.py WATCHED LOG_DIR VERB ARGS...

(One command per launch, as `torchrun -m imageprivacy` runs: a process group that was left cannot be
joined again under the same torchrun store, its keys are those of the first group.)

Python's audit hooks see every file opened for writing, folder made and file renamed (the atomic
writes of nets/weights_file.py and experiments/provenance.py end in a rename, so even safetensors'
own file writing shows), which tells which rank wrote. The log goes to LOG_DIR/<VERB>-rank<RANK>.json.
"""
import json
import os
import sys
from pathlib import Path

WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND


def main() -> int:
    watched, log_dir, *argv = sys.argv[1:]
    root = os.path.realpath(watched)
    writes = []

    def inside(path) -> bool:
        return isinstance(path, (str, bytes, os.PathLike)) and \
            os.path.realpath(os.fsdecode(path)).startswith(root + os.sep)

    def hook(event, args):
        if event == "open" and args[2] and args[2] & WRITING and inside(args[0]):
            writes.append(["open", os.fsdecode(args[0])])
        elif event in ("os.rename", "os.mkdir", "os.remove") and inside(args[1] if event == "os.rename" else args[0]):
            writes.append([event, os.fsdecode(args[1] if event == "os.rename" else args[0])])

    sys.addaudithook(hook)
    from imageprivacy.cli import main as command

    code = command(argv)
    log = Path(log_dir, f"{argv[0]}-rank{os.environ['RANK']}.json")
    log.write_text(json.dumps({"writes": writes, "code": code}))
    return code

if __name__ == "__main__":
    raise SystemExit(main())
