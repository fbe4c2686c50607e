"""The protocol's bodies: the JSON header and the binary tail split by the declared length, and the request's
`parameters` (series, as_of) read per window."""

from __future__ import annotations

import pytest

from service.api.oip_tensors import asked_of, split_body
from service.errors import ProtocolError


def test_the_header_and_the_binary_tail_are_split_by_the_declared_length() -> None:
    header = b'{"inputs": []}'
    assert split_body(header + b"\x00\x01", str(len(header))) == ({"inputs": []}, b"\x00\x01")
    assert split_body(header, None) == ({"inputs": []}, b"")


@pytest.mark.parametrize(
    ("raw", "length", "said"),
    [
        (b'{"inputs": []}', "99", "does not fit the body"),
        (b'{"inputs": []}', "-1", "does not fit the body"),
        (b"{inputs", None, "request is not valid JSON"),
        (b'{"outputs": []}', None, "an object with an 'inputs' list"),
    ],
)
def test_a_body_that_does_not_parse_says_why(raw: bytes, length: str | None, said: str) -> None:
    with pytest.raises(ProtocolError, match=said):
        split_body(raw, length)


def test_series_and_dates_for_all_windows_or_one_each() -> None:
    one = asked_of({"parameters": {"series": "spx", "as_of": "2019-01-04"}}, 2)
    assert one.names == ["spx", "spx"] and one.target == ["2019-01-07", "2019-01-07"]
    each = asked_of({"parameters": {"series": ["a", "b"]}}, 2)
    assert each.names == ["a", "b"] and each.as_of == [None, None]
    assert asked_of({}, 1).names == [""]
    with pytest.raises(ProtocolError, match=r"parameters\.series has 3 values for 2 windows"):
        asked_of({"parameters": {"series": ["a", "b", "c"]}}, 2)
    with pytest.raises(ProtocolError, match="parameters: "):
        asked_of({"parameters": {"as_of": "yesterday"}}, 1)
