"""kimage benchmarks against file(1) and a struct.unpack floor (``make bench``).

``python -m bench.run`` runs the four parts (cold start, throughput, in-process parse,
memory), prints each as a ratio to its reference and writes ``bench/results.json``.
"""
