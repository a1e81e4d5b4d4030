"""Reports of a results document: the rich terminal table, ``report.html`` and figure helpers."""

from neurotwin.plots import receptive_fields_png
from neurotwin.report.html import write_report
from neurotwin.report.terminal import print_summary, summary_table

__all__ = ["print_summary", "receptive_fields_png", "summary_table", "write_report"]
