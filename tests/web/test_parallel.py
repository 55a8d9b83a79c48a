"""Ten requests at once get each its own, correct answer; a long protection does not block /health."""
import threading
from concurrent.futures import ThreadPoolExecutor

import torch
from fastapi.testclient import TestClient

from imageprivacy.protections.base import Protection
from imageprivacy.web.app import create_app
from web.samples import BUDGET, encoded, photo


def _post(client, name, data):
    return client.post("/api/protect", files={"file": (name, data)})


def test_ten_parallel_requests_each_get_their_own_image(protection):
    client = TestClient(create_app(protection))
    uploads = [(f"{k}.png", encoded(photo("RGB" if k % 2 else "L", (20 + k, 30 - k)))) for k in range(10)]
    alone = [_post(client, name, data).content for name, data in uploads]       # one at a time
    with ThreadPoolExecutor(max_workers=10) as pool:
        together = list(pool.map(lambda upload: _post(client, *upload), uploads))
    assert all(r.status_code == 200 for r in together)
    assert [r.content for r in together] == alone          # the protection is deterministic, so any mix-up shows
    assert all(int(r.headers["x-imageprivacy-max-change"]) == BUDGET for r in together)


class WaitingNoise(Protection):
    """Test double: its protection waits until the test lets it finish."""

    name = "test-waiting-noise"
    needs_labels_to_fit = False

    def __init__(self):
        super().__init__(epsilon=8 / 255)
        self.fitted, self.channels = True, 3
        self.started, self.release = threading.Event(), threading.Event()

    def _noise(self, x, labels):
        self.started.set()
        assert self.release.wait(timeout=30), "the test never released the protection"
        return torch.full_like(x, self.epsilon)


def test_health_answers_while_a_long_batch_runs():
    method = WaitingNoise()
    client = TestClient(create_app(method))
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(_post, client, "slow.png", encoded(photo()))
        assert method.started.wait(timeout=30)
        health = client.get("/health")                     # the protection is still running
        assert health.status_code == 200 and not pending.done()
        method.release.set()
        assert pending.result(timeout=30).status_code == 200
