"""A table's columns once read: a named column (with a close name suggested when it is missing, and
one that two columns share refused), its cells as text, and what a file carries besides its data.

    table_column(df, name, role, where) / column_strings(col)   a named column, its cells as text
    texts_column(df, name, role)       a frame handed to predict as its texts: column ``name``, or its one column
    check_unique_columns(df, where)    a frame's columns each named once
    check_flat_columns(df, where)      a frame's columns of one level (not a groupby's several)
    check_strings(items, what, fix)    texts given in Python: each one a string (missing_value(v): None, NaN, pd.NA)
    closest_name(name, names)          the column a misspelt name most likely meant
    blank_rows(df)                     the rows empty in every cell (a spreadsheet's ",,," lines)
    trailing_blank_rows(df)            how many such rows end the table
    without_row_numbers(df)            a table without the row numbers pandas' to_csv / R's write.csv write first
    unnamed_and_empty(col)             a column without a name or a value: a trailing separator's (``a,b,``)
    summary_cell(df, k)                the cell that makes row ``k`` a spreadsheet's summary row (Total, Average, …)

:mod:`lstmkit.data.textfile` (which reads the files) re-exports these.
"""
from __future__ import annotations

import difflib
import math
import numbers
from typing import TYPE_CHECKING

from lstmkit.errors import ColumnNotFound, LstmkitError, callers_level, opt

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["table_column", "texts_column", "check_unique_columns", "check_flat_columns", "column_strings", "check_strings",
           "missing_value", "a_type", "closest_name", "is_number", "parses_as_float", "blank_rows", "trailing_blank_rows", "without_row_numbers", "unnamed_and_empty", "looks_like_data",
           "summary_cell", "SUMMARY_WORDS", "SUBTOTAL_LABEL", "SUMMARY_ROWS"]


def closest_name(name: str, names: list[str]) -> str | None:
    """The one of ``names`` that ``name`` most likely meant: the same up to case and surrounding
    spaces, else a close spelling; None when none is close."""
    key = name.strip().casefold()
    same = [n for n in names if n.strip().casefold() == key]
    if same:
        return same[0]
    close = difflib.get_close_matches(name, names, 1, 0.8)
    return close[0] if close else None



def table_column(df: pd.DataFrame, name: str, role: str, where: str, option: str | None = None) -> pd.Series:
    """Column ``name`` of ``df``; a missing one is an error listing the columns (fix: the setting
    ``option`` that names it, ``role`` by default, in the caller's words: :func:`~lstmkit.errors.opt`)."""
    lookup = {str(c): c for c in df.columns}
    if name not in lookup:
        option = option or role
        close = closest_name(name, list(lookup))
        guess = f" (did you mean {close!r}?)" if close else ""
        names = f"pass {opt(option)} with one of: {', '.join(map(str, lookup)) or '(no columns)'}"
        check_flat_columns(df, where)
        if not close and _numbered(df):
            shown = ", ".join(list(lookup)[:6]) + (", …" if len(lookup) > 6 else "")
            raise LstmkitError(f"{role} column {name!r} not found{where}: its columns are numbered ({shown}), "
                               "not named",
                               f"pass {opt(option)} with the number of the column ({opt(option, '0')}), or name "
                               f"the columns "
                               f"(pandas: df.columns = [{name!r}, ...])")
        if not close and looks_like_data(list(lookup)):
            raise LstmkitError(f"{role} column {name!r} not found{where}: its first line reads as data, not as "
                               f"column names", f"add a header line naming the columns (this one {name!r}) as the "
                               f"file's first line")
        raise ColumnNotFound(f"{role} column {name!r} not found{where}{guess}", names, list(map(str, lookup)), name,
                             close)
    if sum(str(c) == name for c in df.columns) > 1:
        _repeated_name(df, name, where)
    return df[lookup[name]]


def texts_column(df: pd.DataFrame, name: str, role: str) -> pd.Series:
    """The texts of a DataFrame handed over as ``X`` (``df[["text"]]``, as scikit-learn's
    ColumnTransformer hands a column on; a polars or pyarrow table's frame): its column ``name``
    (the model's ``role`` column), else its one column, with a warning naming it, as a text
    classifier reads one; a frame of several columns without ``name`` is an error naming them and
    the column to pass. The warning names the user's line (:func:`~lstmkit.errors.callers_level`)."""
    import warnings
    check_flat_columns(df, " of the DataFrame")
    names = [str(c) for c in df.columns]
    if name in names:
        return table_column(df, name, role, " of the DataFrame")
    if len(names) == 1:
        warnings.warn(f"no column {name!r} in the DataFrame (the model's {role} column): reading its one column "
                      f"{names[0]!r} as the texts", UserWarning, stacklevel=callers_level())
        return df.iloc[:, 0]
    shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "") if names else "none"
    close = closest_name(name, names)
    pick = close or (names[0] if names else name)
    raise LstmkitError(f"the DataFrame has no column {name!r} (the model's {role} column) to read the texts from; "
                       f"its columns: {shown}", f"pass the column of texts, e.g. df[{pick!r}]")


def check_flat_columns(df: pd.DataFrame, where: str = "") -> None:
    """An :class:`LstmkitError` when ``df``'s columns have several levels (``groupby().agg([...])``,
    ``pivot_table`` with several values): a column is named by one text, and none of them has one."""
    import pandas as pd
    if isinstance(df.columns, pd.MultiIndex):
        shown = ", ".join(map(str, df.columns[:3])) + (", …" if len(df.columns) > 3 else "")
        raise LstmkitError(f"the columns{where} have {df.columns.nlevels} levels ({shown}): a column is named by one "
                           f"text", "flatten them first (pandas: df.columns = ['_'.join(map(str, c)) for c in "
                           "df.columns], or df.droplevel(0, axis=1))")


def _numbered(df: pd.DataFrame) -> bool:
    """Whether ``df``'s columns are the numbers pandas gives a frame made from a list or an array
    (``pd.DataFrame(pairs)``): a frame in memory, with no header line to add."""
    import pandas as pd
    return isinstance(df.columns, pd.RangeIndex) and len(df.columns) > 0


def check_unique_columns(df: pd.DataFrame, where: str = "") -> None:
    """An :class:`LstmkitError` when two of ``df``'s columns have one name (as text). A pandas
    frame may hold such columns (a file's repeated header is read as ``name.1``); a lookup by
    that name gives all of them, so no single column would be read."""
    seen: set[str] = set()
    for c in map(str, df.columns):
        if c in seen:
            _repeated_name(df, c, where)
        seen.add(c)


def _repeated_name(df: pd.DataFrame, name: str, where: str) -> None:
    n = sum(str(c) == name for c in df.columns)
    raise LstmkitError(f"{n} columns{where} are named {name!r}: which one to read is not clear",
                       "give each column its own name, or drop the copies "
                       "(pandas: df.loc[:, ~df.columns.duplicated()])")


def looks_like_data(names: list[str]) -> bool:
    """Whether a table's column names read as a row of data: one of them three words or more,
    or a number (a file without a header line, e.g. ``the dog runs,der Hund läuft``)."""
    return any(len(n.split()) >= 3 or is_number(n) for n in names)


def is_number(text: str) -> bool:
    """Whether ``text`` reads as a finite number (``"3"``, ``"-0.25"``, ``"1e3"``)."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def parses_as_float(text: str) -> bool:
    """Whether ``float(text)`` reads ``text`` (``"nan"`` and ``"inf"`` too; :func:`is_number` wants a
    finite number)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def column_strings(col: pd.Series | list) -> list[str]:
    """The cells (of a column, or a list) as text; missing ones (None, NaN, ``pd.NA``, ``pd.NaT``)
    as ``""``. A cell of bytes is an error: ``str()`` would make ``b'good'`` of it, and bytes have
    no one decoding; so is a cell holding several values (a JSON list, a dict), whose ``str()``
    brackets and quote marks would be read as the text."""
    import numpy as np
    import pandas as pd
    cells = col.tolist() if hasattr(col, "tolist") else col
    name = getattr(col, "name", None)
    where = f"column {str(name)!r}" if name is not None else "the list"
    raw = next((i for i, v in enumerate(cells) if isinstance(v, (bytes, bytearray))), None)
    if raw is not None:
        raise LstmkitError(f"item {raw + 1} of {where} is bytes ({bytes(cells[raw][:20])!r}), not text",
                           "decode the bytes first (pandas: df[column].str.decode('utf-8'); "
                           "Python: b.decode('utf-8'))")
    many = next((i for i, v in enumerate(cells) if isinstance(v, (*_MANY, np.ndarray))), None)
    if many is not None:
        raise LstmkitError(f"item {many + 1} of {where} holds several values, not one text "
                           f"({type(cells[many]).__name__} {str(cells[many])[:30]!r})",
                           "make each cell one text first (pandas: df[column].str.join(' ') for lists of words or "
                           "sentences)")
    # pandas' nullable columns (dtype "string", convert_dtypes) hold pd.NA: its str() is '<NA>', read as a text
    return ["" if (v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))) else str(v)
            for v in cells]


_MANY = (list, tuple, dict, set, frozenset)         # a cell of several values (a numpy array too: Parquet's lists)


def check_strings(items: list, what: str, fix: str, missing: str | None = None) -> None:
    """An :class:`LstmkitError` naming the first of ``items`` (texts given in Python) that is not a
    string, with ``fix``: a missing value (None, NaN, ``pd.NA``: a pandas column's empty cells) is
    said to be missing, with the fix ``missing`` when given (NaN was "a float ('nan')", and a fix
    "an empty text is ''" led to the next error where empty texts are refused); bytes are told to
    be decoded; anything else is named by its type."""
    other = next((i for i, t in enumerate(items) if not isinstance(t, str)), None)
    if other is None:
        return
    v = items[other]
    said, decode = _not_a_string(v, "; pandas: s.str.decode('utf-8')")
    raise LstmkitError(f"{what} {other} of the list is {said}, not a string",
                       decode or (missing if missing and missing_value(v) else fix))


def one_text(text, fix: str) -> str:
    """``text`` when it is a string holding a word; else an :class:`LstmkitError` with ``fix``: bytes
    are told to be decoded, another type is named (``token_inputs(5)`` said "the text is empty")."""
    if not isinstance(text, str):
        said, decode = _not_a_string(text)
        raise LstmkitError(f"the text is {said}, not a string", decode or fix)
    if not text.strip():
        raise LstmkitError("the text is empty", fix)
    return text


def _not_a_string(v, pandas_decode: str = "") -> tuple[str, str | None]:
    """How ``v`` (not a string) is named in an error — missing, bytes or its type, with the start of
    its value — and, for bytes, the fix they take whatever the caller's (decode them)."""
    if missing_value(v):
        return f"missing ({missing_value(v)})", None
    if isinstance(v, (bytes, bytearray)):
        return f"bytes ({bytes(v[:20])!r})", f"decode the bytes first (Python: b.decode('utf-8'){pandas_decode})"
    return f"{a_type(v)} ({str(v)[:20]!r})", None


def a_type(v) -> str:
    """``v``'s type with its article, for an error: ``"an int"``, ``"a float"``."""
    kind = type(v).__name__
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind}"


def missing_value(v) -> str:
    """How ``v`` is written when it is a missing value (``"None"``, ``"NaN"``, ``"pd.NA"``, ``"NaT"``), else ``""``."""
    import pandas as pd
    if v is None:
        return "None"
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    return "pd.NA" if v is pd.NA else "NaT" if v is pd.NaT else ""


def blank_rows(df: pd.DataFrame):
    """A boolean mask ``[len(df)]`` of the rows whose every cell is empty or missing (NaN, None,
    blank text): a spreadsheet's ``,,,`` lines, which place nothing anywhere. Only rows whose first
    cell is empty are looked at closely (a long table's text is not copied)."""
    import numpy as np
    import pandas as pd
    first = df.iloc[:, 0]
    empty = first.isna().to_numpy().copy()
    if not (pd.api.types.is_numeric_dtype(first) or pd.api.types.is_datetime64_any_dtype(first)):
        empty |= (first.astype(str).str.strip() == "").to_numpy()          # text: blank cells too
    maybe = np.flatnonzero(empty)
    mask = np.zeros(len(df), dtype=bool)
    if maybe.size:
        cells = df.iloc[maybe]
        empty = cells.isna() | cells.astype(str).apply(lambda c: c.str.strip()).isin(["", "nan", "None", "<NA>"])
        mask[maybe[empty.all(axis=1).to_numpy()]] = True
    return mask


def trailing_blank_rows(df: pd.DataFrame) -> int:
    """How many of the last rows of ``df`` are empty in every cell (:func:`blank_rows`): the ``,,,``
    lines a spreadsheet writes under its data for rows it once formatted."""
    import numpy as np
    blank = blank_rows(df) if len(df) and len(df.columns) else np.zeros(0, dtype=bool)
    return len(blank) - int(np.flatnonzero(~blank)[-1]) - 1 if (~blank).any() else len(blank)


def without_row_numbers(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` without a first column that has no name and counts the rows 0, 1, 2, … or 1, 2, …:
    the index pandas' ``to_csv`` writes (R's ``write.csv``: its row names), read back as
    ``Unnamed: 0``: no data of the user's."""
    import numpy as np
    import pandas as pd
    name = str(df.columns[0]) if len(df.columns) else ""
    if len(df.columns) < 2 or not (name == "" or name.startswith("Unnamed: 0")):
        return df
    num = pd.to_numeric(df.iloc[:, 0], errors="coerce").to_numpy(dtype=np.float64)
    rows = np.arange(len(df), dtype=np.float64)
    return df.iloc[:, 1:] if np.array_equal(num, rows) or np.array_equal(num, rows + 1) else df


def unnamed_and_empty(col: pd.Series) -> bool:
    """Whether ``col`` has no name and no value: pandas' ``Unnamed: 4`` of each line's trailing
    separator (``2024-01-01,5,7,``), no data of the user's; a column without a name but with
    values is one."""
    return str(col.name).startswith("Unnamed: ") and not any(v.strip() for v in column_strings(col))


# a spreadsheet's summary row: Total, Grand total, Subtotal, Sum, Average, … (German, Dutch, Scandinavian too)
SUMMARY_WORDS = (r"((grand|sub)\s*)?totals?|sum|summe|gesamt|totaal|totalt|total général|totale|average|avg\.?|mean|"
                 r"median|durchschnitt|mittelwert|min(imum)?|max(imum)?")
SUMMARY_WORDS = rf"({SUMMARY_WORDS}):?"
# a pivot table's subtotal row, its label the group's with a total word: "1991 Total", "Store A Total", "Total
# 1991", LibreOffice's "Total Result", German Excel's "1991 Ergebnis" and "Gesamtergebnis"
SUBTOTAL_LABEL = (r"(?:.*\s)?(?:(?:grand|sub)\s*)?(?:totals?|summe|gesamt|totaal|totalt|totale)(?:\s.*)?|"
                  r"(?:.*\s)?(?:gesamt)?ergebnis(?:\s.*)?")
SUMMARY_ROWS = 4                      # the last rows of a table looked at for a summary row


def summary_cell(df: pd.DataFrame, k: int) -> str | None:
    """The text of row ``k`` of ``df`` that makes it a spreadsheet's summary row: a cell reading
    Total, Sum, Average, … (:data:`SUMMARY_WORDS`) found once in its column (a label at the end,
    not a category's value); None when no cell does."""
    import re
    row = df.iloc[k]
    return next((str(v).strip() for c, v in zip(range(df.shape[1]), row.tolist()) if isinstance(v, str)
                 and re.fullmatch(SUMMARY_WORDS, v.strip(), flags=re.IGNORECASE)
                 and (df.iloc[:, c] == v).sum() == 1), None)
