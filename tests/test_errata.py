"""The notes' errata: every entry is complete, chapters find theirs by key, and the claims
that code can check are checked."""

import pytest
import torch
from torch import nn

import attn_lib
from attn_lib.book.errata import ERRATA, errata_for, errata_table


def test_every_erratum_names_a_registered_mechanism_and_says_why():
    names = set(attn_lib.MECHANISMS) | {"general"}
    assert len({e.key for e in ERRATA}) == len(ERRATA)
    for e in ERRATA:
        assert e.mechanism in names and e.notes and e.paper and len(e.why) > 40


def test_errata_table_has_one_row_per_entry():
    assert errata_table().count("\n") == len(ERRATA) + 1
    assert errata_table("sk").count("\n") == len(errata_for("sk")) + 1 == 5
    # A chapter's table does not name its own mechanism; the appendix's names each as readers do.
    assert errata_table("sk").splitlines()[0] == "| The notes | The paper | Why it matters |"
    assert errata_table().splitlines()[2].startswith("| cSE | ")


def test_a_pipe_in_an_entry_does_not_split_its_cell():
    for row in errata_table().splitlines()[2:]:
        assert row.replace("\\|", "").count("|") == 5  # four cells
    for row in errata_table("eca").splitlines()[2:]:
        assert row.replace("\\|", "").count("|") == 4  # three cells


def test_the_bug_that_stops_training_comes_first_among_sks_entries():
    assert errata_for("sk")[0].key == "sk-inplace"


@pytest.mark.parametrize("inplace", [False, True], ids=["relu", "relu-inplace"])
def test_sk_inplace_unsqueeze_of_a_relu_output_breaks_backward(inplace):
    """The notes' ``conv(x).unsqueeze_(1)``: forward runs, backward raises (sk-inplace)."""
    torch.manual_seed(0)
    branch = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4),
                           nn.ReLU(inplace=inplace))
    x = torch.randn(2, 4, 5, 5)
    fea = branch(x).unsqueeze_(1)  # as in the notes
    assert fea.shape == (2, 1, 4, 5, 5)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        fea.sum().backward()
    branch(x).unsqueeze(1).sum().backward()  # out of place: fine
    assert branch[0].weight.grad is not None
