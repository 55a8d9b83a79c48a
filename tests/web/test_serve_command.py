"""`imageprivacy serve`: what it starts uvicorn with, and the one line it prints without the web extra."""
import importlib.util

import pytest
from fastapi.testclient import TestClient

from imageprivacy.cli import main
from imageprivacy.cli.unlearnable import serve_command


@pytest.fixture
def started(monkeypatch):
    """uvicorn.run replaced: what serve would have run, as a dict."""
    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(app=app, **options))
    return seen


def test_serve_starts_the_app_on_localhost(started, generator_file, capsys):
    assert main(["serve", "--generator", str(generator_file), "--max-megapixels", "2", "--max-files", "5"]) == 0
    assert (started["host"], started["port"], started["access_log"]) == ("127.0.0.1", 8765, False)
    out = capsys.readouterr().out
    assert "open http://127.0.0.1:8765/" in out and "other machines" not in out
    health = TestClient(started["app"]).get("/health").json()
    assert health["limits"] == {"max_megapixels": 2.0, "max_files": 5, "max_upload_mb": 1024.0}
    assert health["protection"]["checkpoint"] == generator_file.name


def test_serve_says_when_it_listens_beyond_this_machine(started, generator_file, capsys):
    assert main(["serve", "--checkpoint", str(generator_file), "--host", "0.0.0.0", "--port", "9000"]) == 0
    assert (started["host"], started["port"]) == ("0.0.0.0", 9000)
    assert "other machines can reach this server" in capsys.readouterr().out


def test_without_the_web_extra_serve_says_how_to_install_it(monkeypatch, generator_file, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "fastapi" else real(name, *a))
    assert main(["serve", "--generator", str(generator_file)]) == 2
    err = capsys.readouterr().err
    assert err == serve_command.INSTALL_HINT + "\n" and "pip install 'imageprivacy[web]'" in err


def test_a_file_that_is_no_checkpoint_is_one_line_and_exit_2(tmp_path, capsys):
    bogus = tmp_path / "gen.safetensors"
    bogus.write_bytes(b"not safetensors")
    assert main(["serve", "--generator", str(bogus)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("imageprivacy serve: error:") and err.count("\n") == 1


@pytest.mark.parametrize("flag", ["--max-megapixels=0", "--max-files=-1", "--max-upload-mb=abc"])
def test_limits_must_be_positive(flag, generator_file):
    with pytest.raises(SystemExit) as info:
        main(["serve", "--generator", str(generator_file), flag])
    assert info.value.code == 2
