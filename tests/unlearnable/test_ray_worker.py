"""The Ray worker's batch (ray_worker.py) without Ray: outcomes for each input, temporary files only, errors as a row."""
import pickle

from imageprivacy.errors import OutputError
from imageprivacy.protections.unlearnable import output_writer
from imageprivacy.protections.unlearnable.output_plan import plan_outputs
from imageprivacy.protections.unlearnable.protect_folder import protect_path
from imageprivacy.protections.unlearnable.protection_identity import protection_identity
from imageprivacy.protections.unlearnable.file_shard import portable as _portable
from imageprivacy.protections.unlearnable.ray_worker import ProtectWorker
from unlearnable.protect_doubles import random_pixels, save_image, untrained_generator


def _worker(root, png_compression=1):
    """A worker as Ray would build it, less the checkpoint's trip through the object store."""
    worker = object.__new__(ProtectWorker)
    worker.protection = untrained_generator()
    worker.root, worker.identity, worker.overwrite = root, protection_identity(worker.protection, None, False), False
    worker.use_labels, worker.batch_size, worker.threads = False, 4, 1
    worker.png_compression = png_compression
    return worker


def _batch(tmp_path):
    save_image(tmp_path / "in" / "a.png", random_pixels())
    save_image(tmp_path / "in" / "sub" / "b.png", random_pixels(7, 3))
    (tmp_path / "in" / "c.png").write_bytes(b"not an image")
    plan = plan_outputs(tmp_path / "in", tmp_path / "out")
    return plan, {"job": [pickle.dumps((job, None, None)) for job in plan.jobs]}


def _outcomes(result):
    return [pickle.loads(blob) for blob in result["outcome"]]


def test_a_batch_gives_one_outcome_per_input_and_moves_nothing_in_place(tmp_path):
    plan, batch = _batch(tmp_path)
    outcomes = _outcomes(_worker(plan.root)(batch))
    assert sorted((o.job.rel, o.status) for o in outcomes) == [("a.png", "written"), ("c.png", "skipped"),
                                                               ("sub/b.png", "written")]
    for outcome in outcomes:
        if outcome.status == "written":
            assert outcome.tmp.is_file() and outcome.tmp.parent == outcome.job.target.parent
            assert not outcome.job.target.exists() and outcome.record["source"] == outcome.job.rel
    assert not (plan.root / ".imageprivacy-manifest.json").exists()      # the driver's alone


def test_a_worker_writes_the_local_engines_bytes_at_the_level_it_is_given(tmp_path):
    plan, batch = _batch(tmp_path)
    written = [o for o in _outcomes(_worker(plan.root, png_compression=9)(batch)) if o.status == "written"]
    local = tmp_path / "local"
    protect_path(untrained_generator(), tmp_path / "in", local, png_compression=9)
    assert len(written) == 2 and all(o.record["png_compression"] == 9 for o in written)
    assert all(o.tmp.read_bytes() == (local / o.job.target_rel).read_bytes() for o in written)


def test_an_output_error_comes_back_as_the_last_row_of_its_type(tmp_path, monkeypatch):
    plan, batch = _batch(tmp_path)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(output_writer.tempfile, "mkstemp", refuse)
    outcomes = _outcomes(_worker(plan.root)(batch))
    assert isinstance(outcomes[-1], OutputError) and "Permission denied" in str(outcomes[-1])
    assert [o.status for o in outcomes[:-1]] == ["skipped"]               # c.png, examined before the error


def test_an_exception_that_cannot_travel_becomes_a_runtime_error():
    class Local(Exception):          # defined in a function: pickle cannot find it again
        pass
    assert type(_portable(OutputError("x"))) is OutputError
    portable = _portable(Local("lost type"))
    assert type(portable) is RuntimeError and "Local: lost type" in str(portable)
