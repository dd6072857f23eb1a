import math
import os

import pytest
import torch

import attn_lib

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs one xdist worker per core; a worker that also spread its tensor work
    # over every core would make the workers' OpenMP threads wait on one another.
    torch.set_num_threads(1)

NAMES = [m.name for m in attn_lib.mechanisms()]


def build(name: str, channels: int, **kwargs):
    """A module of ``name`` for ``channels``; SK's groups shrink to a divisor of small widths."""
    if name in ("sse", "eca", "srm", "triplet", "simam"):
        kwargs.pop("reduction", None)  # these have no bottleneck
    if name == "sk" and "groups" not in kwargs:
        kwargs["groups"] = math.gcd(channels, 32)
    return attn_lib.create(name, channels, **kwargs)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
