"""The client's CSV reader (standard library only) reads the project's table of price CSVs as the trainer does."""

from __future__ import annotations

import pytest

from client.csvfile import CsvError, read_prices
from tests.conftest import CSV_TABLE, csv_cases


@pytest.mark.parametrize("case", csv_cases())
def test_the_client_reads_the_csv_table_as_written(case: dict) -> None:
    path = CSV_TABLE / case["file"]
    if "error" in case:
        with pytest.raises(CsvError) as refused:
            read_prices(path, case["column"])
        assert str(refused.value).startswith(f"{path}: ") and case["error"] in str(refused.value)
        assert "\n" not in str(refused.value)
        return
    found = read_prices(path, case["column"])
    assert (found.column, found.dates, found.prices) == (case["read"], case["dates"], case["prices"])
