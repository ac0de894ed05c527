"""`serve` tunes glibc's malloc (cli/serve.tune_malloc, the setting malloc_arenas): with the arena
cap, threads that allocate at once share two arenas instead of getting one each (up to 8 per core);
with the fixed mmap threshold, large blocks go back to the system when freed. The load soak and the 3M
node in BENCHMARKS.md show what that does to RSS; this checks the mechanisms, in a fresh process as
`serve` starts."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux" or platform.libc_ver()[0] != "glibc",
                                reason="glibc's malloc arenas")

PROBE = """
import sys, threading
from dailypapers.cli.serve import tune_malloc

limited = tune_malloc(int(sys.argv[1]))
together = threading.Barrier(12)

def work():
    together.wait()  # all alive at once: each one's first malloc asks for an arena
    blocks = [bytearray(1000) for _ in range(5000)]
    together.wait()
    del blocks

threads = [threading.Thread(target=work) for _ in range(12)]
for t in threads:
    t.start()
for t in threads:
    t.join()
# every arena but the main one lives in a mapping aligned to glibc's HEAP_MAX_SIZE (64 MiB)
heaps = 0
for line in open("/proc/self/maps"):
    fields = line.split()
    if len(fields) == 5 and fields[1] == "rw-p" and int(fields[0].split("-")[0], 16) % (64 << 20) == 0:
        heaps += 1
print(limited, heaps)
"""


def fresh_process(probe: str, arenas: int) -> str:
    """What ``probe`` prints, run in a new interpreter as `serve` starts, with ``arenas``."""
    return subprocess.run([sys.executable, "-c", probe, str(arenas)], capture_output=True, text=True, check=True,
                          env={"PATH": "/usr/bin:/bin"}).stdout


def arena_heaps(arenas: int) -> tuple[bool, int]:
    out = fresh_process(PROBE, arenas).split()
    return out[0] == "True", int(out[1])


def test_the_cap_keeps_threads_to_two_arenas():
    limited, heaps = arena_heaps(2)
    assert limited and heaps <= 2  # the main arena plus one (an unrelated aligned mapping at most)
    default, many = arena_heaps(0)
    assert not default and many >= heaps + 4


FREED = """
import sys
from dailypapers.cli.serve import tune_malloc

tune_malloc(int(sys.argv[1]))

def anon_kb():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1])

first = bytearray(16 << 20)  # mapped on its own; freeing it raises glibc's own threshold past 8 MiB
del first
before = anon_kb()
blocks = [bytearray(8 << 20) for _ in range(3)]  # written through (zero-filled), so resident
del blocks
print(anon_kb() - before)
"""


def kept_after_free(arenas: int) -> int:
    return int(fresh_process(FREED, arenas)) // 1024  # MB


def test_large_blocks_go_back_to_the_system_when_freed():
    assert kept_after_free(2) < 4
    assert kept_after_free(0) >= 16  # glibc's default keeps them in the heap
