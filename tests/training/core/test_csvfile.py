"""The trainer's CSV reader: every dialect it takes, and one line naming the file, row and column for a bad one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CSV_TABLE, ROOT, TEST_DATA, csv_cases
from training.core.csvfile import load_csv
from training.core.errors import DataError


def write(tmp_path: Path, text: str, name: str = "prices.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_yahoo_file_defaults_to_adj_close(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Date,Open,High,Low,Close,Adj Close,Volume\n1/4/1999,1,2,0.5,10,9.5,100\n1/5/1999,1,2,0.5,11,10.5,100\n",
    )
    series = load_csv(path)
    assert series.column == "Adj Close"
    assert series.prices.tolist() == [9.5, 10.5]
    assert series.dates.astype(str).tolist() == ["1999-01-04", "1999-01-05"]


def test_iso_dates_lowercase_headers_and_close_fallback(tmp_path: Path) -> None:
    path = write(tmp_path, "date,open,close\n2020-01-02,5,6\n2020-01-03,6,7\n")
    series = load_csv(path)
    assert series.column == "close"
    assert series.prices.tolist() == [6.0, 7.0]


def test_column_option_is_case_insensitive(tmp_path: Path) -> None:
    path = write(tmp_path, "DATE,OPEN,CLOSE\n2020-01-02,5,6\n")
    assert load_csv(path, column="open").prices.tolist() == [5.0]


def test_tutorial_files_with_quoted_thousands_and_leading_space_header() -> None:
    train = load_csv(TEST_DATA / "Google_Stock_Price_Train.csv", column="Open")
    assert len(train) == 1258
    assert train.prices[0] == pytest.approx(325.25)
    close = load_csv(TEST_DATA / "Google_Stock_Price_Train.csv")  # no Adj Close: Close, "1,015.25" style
    assert close.column == "Close"
    assert close.prices.max() > 1000  # quoted "1,xxx.xx" values parsed, not dropped
    volume = load_csv(TEST_DATA / "Google_Stock_Price_Test.csv", column="volume")  # header " Volume"
    assert volume.prices[0] == 1657300.0


def test_fred_two_column_file_with_dot_for_missing(tmp_path: Path) -> None:
    path = write(tmp_path, "DATE,DCOILWTICO\n2020-01-01,.\n2020-01-02,61.17\n2020-01-03,63.00\n")
    series = load_csv(path)
    assert series.column == "DCOILWTICO"
    assert series.prices.tolist() == [61.17, 63.0]


def test_unsorted_rows_duplicates_blanks_and_nulls(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(
        tmp_path,
        "Date,Close\n2020-01-03,3\n\n2020-01-01,1\n2020-01-02,null\n2020-01-03,30\n2020-01-04,4\n",
    )
    with caplog.at_level("INFO"):
        series = load_csv(path)
    assert series.dates.astype(str).tolist() == ["2020-01-01", "2020-01-03", "2020-01-04"]
    assert series.prices.tolist() == [1.0, 30.0, 4.0]  # the later row of a duplicated date wins
    assert "1 blank rows, 1 missing values, 1 duplicate dates dropped" in caplog.text
    assert "were sorted" in caplog.text


def test_gzip_input_is_read() -> None:
    series = load_csv(ROOT / "training" / "data" / "sp500.csv.gz")
    assert len(series) == 5031


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        (
            "Date,Close\n2020-01-02,-3\n",
            None,
            "row 2: column 'Close': '-3' is not a positive price",
        ),
        ("Date,Close\n2020-01-02,0\n", None, "row 2: column 'Close': '0' is not a positive price"),
        (
            "Date,Close\n2020-01-02,1\n2020-01-03,abc\n",
            None,
            "row 3: column 'Close': 'abc' is not a number",
        ),
        ("Date,Close\n2020-13-45,1\n", None, "row 2: column 'Date': '2020-13-45' is not a date"),
        ("Date,Close\n2020-01-02,1\n", "Price", "unknown column 'Price'"),
        ("Date,Open,High\n2020-01-02,1,2\n", None, "no 'Adj Close' or 'Close' column"),
        ("Date,Close\n2020-01-02\n", None, "row 2: 1 fields"),
        ("", None, "empty or has no header"),
    ],
)
def test_malformed_files_raise_one_line_errors(tmp_path: Path, text: str, column: str | None, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DataError) as info:
        load_csv(path, column)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        load_csv(tmp_path / "nope.csv")
    path = tmp_path / "bin.csv"
    path.write_bytes(b"Date,Close\n\xff\xfe\x00\n")
    with pytest.raises(DataError, match="not UTF-8"):
        load_csv(path)
    for name, content in (("cut.csv.gz", b"\x1f\x8b"), ("corrupt.csv.gz", b"\x1f\x8b\x08\x00 not really gzip")):
        (tmp_path / name).write_bytes(content)  # a truncated stream (EOFError), a corrupt one (zlib.error)
        with pytest.raises(DataError, match="not a valid gzip file"):
            load_csv(tmp_path / name)


SEMICOLON_ROWS = (
    "Date;Open;High;Low;Close;Adj Close;Volume\n2020-01-02;1;2;0.5;10;9.5;100\n2020-01-03;1;2;0.5;11;10.5;100\n"
)


def test_semicolon_file_loads_with_its_columns(tmp_path: Path) -> None:
    series = load_csv(write(tmp_path, SEMICOLON_ROWS))
    assert series.column == "Adj Close"
    assert series.prices.tolist() == [9.5, 10.5]
    assert load_csv(write(tmp_path, SEMICOLON_ROWS), column="Close").prices.tolist() == [10.0, 11.0]


def test_tab_file_loads(tmp_path: Path) -> None:
    series = load_csv(write(tmp_path, "Date\tClose\n2020-01-02\t6.5\n2020-01-03\t7\n"))
    assert series.prices.tolist() == [6.5, 7.0]


def test_european_export_with_decimal_commas(tmp_path: Path) -> None:
    path = write(tmp_path, "Datum;Schluss\n02.01.2020;1.234,56\n03.01.2020;1.240,5\n06.01.2020;999,75\n")
    series = load_csv(path, column="Schluss")
    assert series.prices.tolist() == [1234.56, 1240.5, 999.75]
    assert series.dates.astype(str).tolist() == ["2020-01-02", "2020-01-03", "2020-01-06"]


def test_decimal_comma_file_with_a_bad_value_says_the_expected_style(tmp_path: Path) -> None:
    path = write(tmp_path, "Date;Close\n2020-01-02;1.234,56\n2020-01-03;12abc\n")
    with pytest.raises(DataError, match=r"row 3: column 'Close': '12abc' is not a number with a decimal comma"):
        load_csv(path)


def test_single_column_header_names_the_likely_cause(tmp_path: Path) -> None:
    path = write(tmp_path, "Date|Open|Close\n2020-01-02|1|2\n")
    with pytest.raises(DataError, match="single column \\(it looks pipe-separated\\)") as info:
        load_csv(path)
    assert "comma, semicolon or tab" in str(info.value)


@pytest.mark.parametrize("case", csv_cases())
def test_the_trainer_reads_the_csv_table_as_written(case: dict) -> None:
    path = CSV_TABLE / case["file"]
    if "error" in case:
        with pytest.raises(DataError) as refused:
            load_csv(path, case["column"])
        assert str(refused.value).startswith(f"{path}: ") and case["error"] in str(refused.value)
        assert "\n" not in str(refused.value)
        return
    series = load_csv(path, case["column"])
    assert series.column == case["read"] and [str(d) for d in series.dates] == case["dates"]
    assert series.prices.tolist() == case["prices"]  # exactly: every reader parses the same decimal text
