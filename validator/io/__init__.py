"""Bounded, read-only input: the file (``source``), byte views over it and over decoded
streams (``views``, ``decoded``) and the bounds on what one analysis may decode (``limits``).

Every view answers ``read(offset, n)`` and knows its root ``source``. Two kinds exist:

* ``View``: a window on the input file (``base``, ``length``); reads are ``pread``s.
* ``DecodedView``: the output of a decoder (decompression, a tar member of a compressed
  archive). Bytes are produced on demand, streaming, from the parent view: the first
  ``HEAD`` decoded bytes are kept, after that only a sliding ``WINDOW``; a read behind
  the window restarts the decoder. Memory is bounded by ``HEAD + WINDOW`` plus the
  decoder's own state whatever the stream holds, and output is capped by ``Limits``.

A decoder's own state is its history window (zstd's window, an xz/lzma dictionary, a
bzip2 or lz4 block), which fills as it decodes: a stream needs min(window, bytes decoded)
of it. What the decoded views of one chain hold at once, their windows and their own
head and window buffers, is capped by ``Limits.max_decoder_memory``; a stream that would
need more stops there, with ``layer/decoded-in-part`` (info: the bytes decoded so far
are judged; the stream's end is not checked).

Nothing here knows a format: the wrappers and headers are in ``validator.formats``.
"""
