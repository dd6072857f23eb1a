"""The notes' errata: every entry is complete, and chapters find theirs by key."""

import attn_lib
from attn_lib.book.errata import ERRATA, errata_for, errata_table


def test_every_erratum_names_a_registered_mechanism_and_says_why():
    names = set(attn_lib.MECHANISMS) | {"general"}
    assert len({e.key for e in ERRATA}) == len(ERRATA)
    for e in ERRATA:
        assert e.mechanism in names and e.notes and e.paper and len(e.why) > 40


def test_errata_table_has_one_row_per_entry():
    assert errata_table().count("\n") == len(ERRATA) + 1
    assert errata_table("sk").count("\n") == len(errata_for("sk")) + 1 == 4
