"""The record stage: the compiler's escape diagnostics as records two revisions compare by.

- ``parse``: the ``-m`` output, line by line, into raw records;
- ``heap``: the heap escapes among them, with the fast path for large outputs;
- ``normalize``: records keyed by what survives a move or a reformat;
- ``functions``: the function each record is in, as the source names it;
- ``hints``: why a value escapes, in words a reviewer reads.
"""
