"""The validator's token alignment (fairprobe.twins.text.validate._opcodes) is difflib's: its shortcut for lines of
one length whose changed tokens stand nowhere in the other line gives exactly difflib.SequenceMatcher's opcodes, and
every other pair goes to the matcher."""

import difflib
import importlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# the module, not the function fairprobe.twins.text exports under its name
opcodes = importlib.import_module("fairprobe.twins.text.validate")._opcodes


def matcher(a, b):
    return difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()


TOKENS = st.sampled_from(["a", "b", "c", "d", "emily", "greg", "she", "he", ",", "."])


@settings(max_examples=1500, deadline=None)
@given(st.lists(TOKENS, max_size=12), st.data())
def test_the_alignment_is_difflibs_for_substitutions(a, data):
    """Lines of one length with tokens changed in place (the shape of a twin's line), from a small vocabulary so that
    changed tokens often stand elsewhere in the line too."""
    b = list(a)
    for k in data.draw(st.lists(st.integers(0, max(len(a) - 1, 0)), max_size=4)) if a else []:
        b[k] = data.draw(TOKENS)
    assert opcodes(a, b) == matcher(a, b), (a, b)


@settings(max_examples=500, deadline=None)
@given(st.lists(TOKENS, max_size=10), st.lists(TOKENS, max_size=10))
def test_the_alignment_is_difflibs_for_any_two_lines(a, b):
    assert opcodes(a, b) == matcher(a, b), (a, b)


@pytest.mark.parametrize("a, b", [
    (["emily", "walsh", "leads", "."], ["greg", "baker", "leads", "."]),
    (["she", "said", "she", "codes"], ["he", "said", "he", "codes"]),
    (["x", "emily", "y", "walsh"], ["x", "greg", "y", "baker"]),
])
def test_a_line_whose_changed_tokens_stand_nowhere_else_needs_no_matcher(monkeypatch, a, b):
    """The shortcut is taken (the matcher is not built) where it is sure, and its answer is the matcher's."""
    expected = matcher(a, b)
    monkeypatch.setattr(difflib, "SequenceMatcher", None)
    assert opcodes(a, b) == expected


def test_a_changed_token_that_stands_elsewhere_goes_to_the_matcher():
    """"u v v" -> "v v v": difflib aligns the two "v v" blocks one place apart (a delete and an insert, not a
    replace); the shortcut would have said replace."""
    a, b = ["u", "v", "v"], ["v", "v", "v"]
    assert opcodes(a, b) == matcher(a, b) == [("delete", 0, 1, 0, 0), ("equal", 1, 3, 0, 2), ("insert", 3, 3, 2, 3)]
