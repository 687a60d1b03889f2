"""Suite-wide isolation: no test writes into the user's caches or tracking stores."""

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_user_state(tmp_path_factory):
    cache = tmp_path_factory.mktemp("twin-cache")
    saved = {k: os.environ.get(k) for k in ("TWIN_CACHE_DIR", "MPLBACKEND")}
    os.environ["TWIN_CACHE_DIR"] = str(cache)
    os.environ["MPLBACKEND"] = "Agg"
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
