"""Plain-text tables (prettytable when installed)."""
from typing import Any, List, Sequence


def format_table(headers: Sequence[str], rows: List[Sequence[Any]]) -> str:
    """A bordered text table of ``rows`` under ``headers``."""
    try:
        from prettytable import PrettyTable
    except ImportError:
        PrettyTable = None
    if PrettyTable is not None:
        table = PrettyTable()
        table.field_names = list(headers)
        for row in rows:
            table.add_row(list(row))
        return table.get_string()
    cells = [[str(h) for h in headers]] + [[str(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'
    fmt = lambda r: '| ' + ' | '.join(v.rjust(w) if i else v.ljust(w)
                                      for i, (v, w) in enumerate(
                                          zip(r, widths))) + ' |'
    return '\n'.join([line, fmt(cells[0]), line] +
                     [fmt(r) for r in cells[1:]] + [line])
